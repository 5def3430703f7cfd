package io.qvirt.launcher.cli;

import io.qvirt.api.FeatureGates;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.LoadedManifest;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.NetworkSettings;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.VirtualMachineInstanceSpec;

/**
 * Builds Jackson's (de)serializers for the KubeVirt model on a second thread while the main thread builds the
 * picocli command line: binding a VM the first time is most of `validate`'s CPU (Jackson introspects every
 * model class once per mapper and caches the result), and picocli's set-up does not need it. The warm-up reads
 * a built-in VM through the same mappers a command uses ({@link ManifestLoader}, validation's deep copy, and
 * the vmi.json writer), so the command finds them cached; a command that gets there first waits on Jackson's
 * own lock for the part under way. Costs little CPU (the same work, done earlier) and on 2 cores takes most of
 * it off the main thread's path. Best effort: a failure only means the command builds them itself.
 */
final class ManifestWarmUp {
    private static final String VM = """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata: {name: warm-up, labels: {a: b}}
            spec:
              running: false
              template:
                metadata: {labels: {a: b}}
                spec:
                  domain:
                    cpu: {cores: 1}
                    devices:
                      disks: [{name: d, disk: {bus: virtio}}, {name: c, disk: {bus: virtio}}]
                      interfaces: [{name: default, masquerade: {}, ports: [{port: 22}]}]
                    resources: {requests: {memory: 64Mi}}
                  networks: [{name: default, pod: {}}]
                  volumes:
                    - {name: d, containerDisk: {image: "example.org/disk:1"}}
                    - {name: c, cloudInitNoCloud: {userData: "#cloud-config"}}
            """;

    private ManifestWarmUp() {
    }

    /**
     * Starts the warm-up on two daemon threads: the binder's deserializers (reading the VM), and meanwhile the
     * plain JSON mapper's (validation's deep copy of the VMI spec), which Jackson keeps apart (another cache).
     */
    static void start() {
        daemon(ManifestWarmUp::bind, "manifest-warm-up");
        daemon(ManifestWarmUp::copy, "manifest-warm-up-json");
    }

    private static void daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    private static void copy() {
        try {
            KubevirtJson.json().readerFor(VirtualMachineInstance.class);
            KubevirtJson.json().readerFor(VirtualMachineInstanceSpec.class);
        } catch (RuntimeException | LinkageError e) {
            // The command builds what it needs itself.
        }
    }

    private static void bind() {
        try {
            LoadedManifest m = ManifestLoader.loadString(VM, "warm-up").get(0);
            m.validate(FeatureGates.kubevirtDefaults().with(FeatureGates.HOST_DISK), NetworkSettings.QVIRT_DEFAULTS);
            VirtualMachineInstance vmi = m.vmi();
            if (vmi != null) {
                KubevirtJson.toJson(vmi);
            }
        } catch (Exception | LinkageError e) {
            // The command builds what it needs itself.
        }
    }
}
