package io.qvirt.launcher.plan.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.api.LoadedManifest;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.ValidationException;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmiDefaults;
import io.qvirt.launcher.plan.Accelerator;
import io.qvirt.launcher.plan.PlanOptions;
import io.qvirt.launcher.plan.PlumbedPodNetwork;
import io.qvirt.launcher.plan.ResolvedVolumes;
import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.plan.VmPlan;
import io.qvirt.launcher.plan.VmPlanner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code bridge} on the pod network: refused by name on one machine (no pod network plumbed by a node agent), a
 * tap netdev with the node agent's tap, MAC and MTU on a cluster.
 */
class BridgeNetworkPlanTest {
    private static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");

    private static VirtualMachineInstance vmi(boolean mac) throws Exception {
        String y = Files.readString(Path.of("src/test/resources/golden/masquerade.yaml")).replace("masquerade: {}", "bridge: {}");
        if (!mac) {
            y = y.replace("            macAddress: \"02:00:00:00:00:01\"\n", "");
        }
        LoadedManifest doc = ManifestLoader.loadString(y, "bridge").get(0);
        return VmiDefaults.apply(doc.vmi());
    }

    private static VmPlan plan(VirtualMachineInstance vmi, PlumbedPodNetwork net) {
        return new VmPlanner(QEMU).plan(vmi, new PlanOptions(new RuntimePaths(Path.of("/r")),
                new Accelerator(Accelerator.TCG, "t"), false, true, "spec.template.spec.", "127.0.0.1", x -> x, 3,
                ResolvedVolumes.NONE, net));
    }

    private static List<String> after(List<String> argv, String flag) {
        return java.util.stream.IntStream.range(0, argv.size() - 1).filter(i -> argv.get(i).equals(flag))
                .mapToObj(i -> argv.get(i + 1)).toList();
    }

    @Test
    void theNodeAgentsTapBecomesTheNetdevAndItsMacTheNics() throws Exception {
        VmPlan p = plan(vmi(false), PlumbedPodNetwork.ready(Map.of("default",
                new PlumbedPodNetwork.Tap("tap0", "0a:58:0a:f4:00:07", 1450))));
        assertEquals(List.of("tap,id=net0,ifname=tap0,script=no,downscript=no"), after(p.argv(), "-netdev"));
        assertTrue(after(p.argv(), "-device").contains(
                "virtio-net-pci,netdev=net0,id=ua-default,mac=0a:58:0a:f4:00:07,host_mtu=1450,romfile="), p.argv().toString());
        assertEquals(List.of(), p.forwards(), "bridge forwards nothing: every port of the pod's address is the guest's");
        assertFalse(String.join(" ", p.argv()).contains("hostfwd"));
    }

    @Test
    void beforeTheAnswerTheDraftHasAStandInTapAndTheSpecsMac() throws Exception {
        VmPlan p = plan(vmi(true), PlumbedPodNetwork.PENDING);
        assertEquals(List.of("tap,id=net0,ifname=tap0,script=no,downscript=no"), after(p.argv(), "-netdev"));
        assertTrue(after(p.argv(), "-device").contains("virtio-net-pci,netdev=net0,id=ua-default,mac=02:00:00:00:00:01,romfile="),
                p.argv().toString());
    }

    @Test
    void anAnswerWithoutTheInterfaceIsRefusedByField() throws Exception {
        ValidationException e = assertThrows(ValidationException.class, () -> plan(vmi(false),
                PlumbedPodNetwork.ready(Map.of("other", new PlumbedPodNetwork.Tap("tap0", "0a:58:0a:f4:00:07", 1500)))));
        assertTrue(e.getMessage().contains("spec.template.spec.domain.devices.interfaces[0].bridge: the node agent "
                + "plumbed no tap for interface 'default' (it made: other)"), e.getMessage());
    }

    @Test
    void onOneMachineBridgeIsRefusedByNameWithTheWayOut() throws Exception {
        ValidationException e = assertThrows(ValidationException.class, () -> plan(vmi(false), null));
        assertTrue(e.getMessage().contains("spec.template.spec.domain.devices.interfaces[0].bridge: not supported by "
                + "qvirt on one machine: use masquerade"), e.getMessage());
    }
}
