package io.qvirt.launcher.cli;

import io.qvirt.launcher.image.ContainerDiskDir;
import io.qvirt.launcher.plan.Accelerator;
import io.qvirt.launcher.plan.PlanOptions;
import io.qvirt.launcher.plan.PlumbedPodNetwork;
import io.qvirt.launcher.plan.ResolvedVolumes;
import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.plan.VmPlan;
import io.qvirt.launcher.plan.VmPlanner;
import io.qvirt.launcher.process.Exec;
import io.qvirt.launcher.process.Fd;
import io.qvirt.launcher.runtime.AccelMode;
import io.qvirt.launcher.runtime.AcceleratorChooser;
import io.qvirt.launcher.runtime.ClaimDisks;
import io.qvirt.launcher.runtime.HostFacts;
import io.qvirt.launcher.runtime.HostFitCheck;
import io.qvirt.launcher.runtime.HostPorts;
import io.qvirt.launcher.runtime.LauncherInfo;
import io.qvirt.launcher.runtime.LauncherInfos;
import io.qvirt.launcher.runtime.NetworkHandshake;
import io.qvirt.launcher.runtime.PreparedVm;
import io.qvirt.launcher.runtime.RuntimeDir;
import io.qvirt.launcher.runtime.Version;
import io.qvirt.launcher.runtime.VmPreparer;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.time.Instant;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "exec", mixinStandardHelpOptions = true,
        description = {"Prepares the VM's directory exactly as run does, then becomes QEMU (same pid): the launcher",
            "pod's entrypoint, so nothing but QEMU runs for the VM. Leaves qmp.sock, console.sock, console.log,",
            "vmi.json and launcher.json for its manager. QEMU starts with the guest paused (-S) unless --autostart:",
            "the manager (the handler, or `launcher unpause NAME`) starts it with cont.",
            "Images (containerDisk volumes, kernelBoot) are pulled first, as by run.",
            "A bridge interface on the pod network: virt-handler plumbs the pod's network namespace (bridge, tap) and",
            "answers the guest's DHCP with the pod's address; exec asks in network-request.json and waits for",
            "network-ready.json in the VM's directory (--network-wait)."})
final class ExecCommand extends BaseCommand {
    static final class Source {
        @Parameters(index = "0", paramLabel = "FILE", description = "VirtualMachine or VirtualMachineInstance YAML/JSON")
        Path file;

        @Option(names = "--vmi-json", paramLabel = "JSON", description = "the VMI as JSON (how the controller passes it)")
        String json;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Mixin
    ImageOptions images;

    @Option(names = "--accel", paramLabel = "auto|kvm|tcg", description = "as for run (default auto)")
    AccelMode accel = AccelMode.AUTO;

    @Option(names = "--autostart", description = "start the guest's CPUs at once (no -S)")
    boolean autostart;

    @Option(names = "--forward-address", paramLabel = "ADDR",
            description = "host address port forwards bind (default 127.0.0.1; in a pod, the pod's address)")
    String forwardAddress = "127.0.0.1";

    @Option(names = "--container-disk-dir", paramLabel = "DIR",
            description = "on a cluster: containerDisks are not pulled but found as DIR/<volume>, each a link to the "
                    + "/disk of a containerDisk container of the launcher pod (KubeVirt's way; the kubelet pulls)")
    Path containerDiskDir;

    @Option(names = "--pvc-dir", paramLabel = "DIR",
            description = "on a cluster: each persistentVolumeClaim or ephemeral volume is mounted at DIR/<volume>: "
                    + "its disk.img (made sparse at the claim's capacity less the file system overhead when missing, "
                    + "as KubeVirt) or, in block mode, the device itself")
    Path pvcDir;

    @Option(names = "--container-disk-wait", paramLabel = "SECONDS",
            description = "how long to wait for each DIR/<volume> link (default 300)")
    long containerDiskWait = 300;

    @Option(names = "--overcommit", paramLabel = "PERCENT", description = "as for run: guest memory may exceed "
            + "MemAvailable by PERCENT percent of it (default 0)")
    int overcommit;

    @Option(names = "--network-wait", paramLabel = "SECONDS",
            description = "a bridge interface on the pod network: how long to wait for virt-handler to plumb the "
                    + "pod's network namespace and answer in the VM's network-ready.json (default 120)")
    long networkWait = 120;

    @Override
    int doCall() throws Exception {
        if (containerDiskWait <= 0) {
            throw new IllegalArgumentException("--container-disk-wait: must be > 0 seconds");
        }
        if (networkWait <= 0) {
            throw new IllegalArgumentException("--network-wait: must be > 0 seconds");
        }
        if (overcommit < 0) {
            throw new IllegalArgumentException("--overcommit: must be >= 0 percent");
        }
        String migrationTarget = MigrationTargetEnv.read(System.getenv());
        ImageOptions.Settings imageSettings = images.settings();
        Specs.Spec s;
        if (source.file != null) {
            s = Specs.load(source.file);
        } else {
            Path tmp = Files.createTempFile("vmi", ".json");
            try {
                Files.writeString(tmp, source.json);
                s = Specs.load(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
        Path qemu = QemuBinary.find();
        AcceleratorChooser chooser = new AcceleratorChooser();
        Accelerator a = chooser.choose(accel, accel != AccelMode.KVM);
        if (!a.isKvm() && accel == AccelMode.AUTO) {
            log().warn("KVM not usable, running under TCG emulation (slow): " + a.reason());
        }
        String ns = s.vmi().getMetadata().getNamespace();
        String name = s.vmi().getMetadata().getName();
        RuntimePaths paths = RuntimeDir.paths(root(), ns, name);
        InetAddress bind = InetAddress.getByName(forwardAddress);
        VmPlanner planner = new VmPlanner(qemu);
        // Claims are found (not pulled) first: a claim that is not mounted is refused before anything is pulled.
        Map<String, ResolvedVolumes.ClaimDisk> claims = pvcDir == null ? Map.of()
                : ClaimDisks.find(s.vmi(), pvcDir, s.fieldPrefix());
        // Planned once with stand-in image paths first, so an invalid spec is refused before anything is pulled.
        // On a cluster the node agent plumbs the pod network for bridge (exec leaves no process that could):
        // until it answered, bridge interfaces are planned with stand-in taps.
        VmPlan draft = planner.plan(s.vmi(), new PlanOptions(paths, a, false, !autostart, s.fieldPrefix(),
                bind.getHostAddress(), p -> p, PlanOptions.SPAWN_FIRST_FD,
                ResolvedVolumes.placeholders(s.vmi()).withClaims(claims), PlumbedPodNetwork.PENDING));
        // A guest the host cannot hold is refused before anything is pulled, made or exec'd.
        new HostFitCheck(HostFacts.host(chooser::kvmMaxVcpus), overcommit).check(s.vmi(), draft, s.fieldPrefix());
        Map<String, ResolvedVolumes.BaseDisk> published = containerDiskDir == null ? null
                : ContainerDiskDir.find(s.vmi(), containerDiskDir, Duration.ofSeconds(containerDiskWait));
        // Each disk container reads its <volume>.alive FIFO until no writer is left: held from here on (a launcher
        // that fails lets them end too), then by QEMU, the fds appended after the plan's so its numbering stays.
        List<Fd> alive = List.of();
        if (published != null) {
            ContainerDiskDir.AliveFifos fifos = ContainerDiskDir.openAliveFifos(s.vmi(), containerDiskDir);
            if (!fifos.skipped().isEmpty()) {
                log().warn("containerDisk containers that will not end with QEMU (no FIFO to hold): "
                        + String.join("; ", fifos.skipped()));
            }
            alive = fifos.fds();
        }
        ResolvedVolumes volumes = ImageOptions.resolver(imageSettings, log(), err()).resolve(s.vmi(), s.fieldPrefix(),
                published).withClaims(claims);
        // QEMU's fds get numbers above the JVM's own, which must not be overwritten while the JVM still runs
        // (taken after the pull, whose HTTP client opened fds of its own).
        int firstFd = Exec.freeFdBase(4 + alive.size());
        PlanOptions options = new PlanOptions(paths, a, false, !autostart, s.fieldPrefix(),
                bind.getHostAddress(), new HostPorts(bind), firstFd, volumes, PlumbedPodNetwork.PENDING);
        VmPlan plan = planner.plan(s.vmi(), options);
        PreparedVm prepared = VmPreparer.prepare(root(), plan, s.vmi());
        try {
            // The request goes into the prepared directory (vmi.json names the VMI), where it stays while QEMU runs,
            // so a restarted handler finds what it plumbed. This pid stays QEMU's after execv.
            NetworkHandshake.Request request = NetworkHandshake.request(s.vmi(), ProcessHandle.current().pid(), paths);
            if (request != null) {
                log().info("waiting up to " + networkWait + " s for virt-handler to plumb the pod network ("
                        + NetworkHandshake.requestFile(paths) + ")");
                PlumbedPodNetwork net = NetworkHandshake.await(paths, request, Duration.ofSeconds(networkWait),
                        Duration.ofMillis(100));
                VmPlan tapped = planner.plan(s.vmi(), options.withPodNetwork(net));
                // Only the netdevs differ: the fds and files prepared for the draft are the plan's.
                if (!tapped.fds().equals(plan.fds()) || !tapped.files().equals(plan.files())) {
                    throw new IllegalStateException("the plan with the node agent's taps differs beyond the network");
                }
                plan = tapped;
            }
            LauncherInfos.write(paths, new LauncherInfo(ns, name, "exec", ProcessHandle.current().pid(), 0, a.name(),
                    a.reason(), qemu.toString(), Version.QVIRT, Instant.now().toString(), plan.forwards(), plan.podAddress(),
                    migrationTarget));
            List<String> argv = plan.argv();
            if (migrationTarget != null) {
                // A cluster migration's target: the same device tree, waiting for the source's state (the source
                // handler's migration sets migrate-incoming). Its host forwards bind the target pod's own address,
                // so unlike launcher migrate on one machine, they do not collide with the source's.
                argv = new ArrayList<>(argv);
                argv.add("-incoming");
                argv.add("defer");
                log().info("migration target for migration " + migrationTarget + ": QEMU waits for the VM's state "
                        + "(-incoming defer)");
            }
            log().info("exec " + qemu + " for VM " + ns + "/" + name + " (accelerator " + a.name() + ": " + a.reason() + ")");
            err().flush();
            out().flush();
            List<Fd> inherit = new ArrayList<>(prepared.childFds());
            inherit.addAll(alive);
            Exec.replaceWith(qemu, argv, inherit, firstFd);
        } catch (RuntimeException e) {
            alive.forEach(Fd::close);
            prepared.close();
            VmPreparer.cleanup(plan);
            throw e;
        }
        return ExitCodes.FAILURE; // not reached: exec returns only by throwing
    }
}
