package io.qvirt.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * How the FAKE node agent mounts a claim: its persistentVolumeClaim volume is the FAKE PV's directory, and the
 * directory the claims are mounted in (the launcher's {@code --pvc-dir}) becomes a directory of links.
 */
class ClaimMountsTest {
    @Test
    void aClaimVolumeIsItsPvsDirectoryAndOtherVolumesStayWhereTheyWere() {
        Pod pod = new PodBuilder().withNewMetadata().withName("p").withNamespace("default").withUid("u").endMetadata()
                .withNewSpec()
                .addNewVolume().withName("data").withNewPersistentVolumeClaim().withClaimName("data-claim")
                .endPersistentVolumeClaim().endVolume()
                .addNewVolume().withName("late").withNewPersistentVolumeClaim().withClaimName("unbound")
                .endPersistentVolumeClaim().endVolume()
                .addNewVolume().withName("tmp").withNewEmptyDir().endEmptyDir().endVolume()
                .endSpec().build();
        PodCommands.Placement at = new PodCommands.Placement("n", "127.0.1.1", "127.0.1.2", Path.of("/sb/run"),
                Path.of("/sb/host"), Path.of("/sb/pods/p"), Path.of("/bin"));
        Map<String, Path> v = PodCommands.volumePaths(pod, at,
                c -> c.equals("data-claim") ? Path.of("/sb/claims/pvc-1") : null);
        assertEquals(Path.of("/sb/claims/pvc-1"), v.get("data"));
        assertEquals(Path.of("/sb/pods/p/volumes/late"), v.get("late"), "unresolved: the pod's own directory");
        assertEquals(Path.of("/sb/pods/p/volumes/tmp"), v.get("tmp"));
    }

    @Test
    void aHostDiskInTheLaunchersVmiJsonIsMappedAsAPathArgumentIs() {
        Map<String, Path> mounts = Map.of("/var/run/kubevirt-private/vmi-disks/data", Path.of("/sb/host/var/lib/d"));
        String json = "{\"metadata\":{\"name\":\"v\"},\"spec\":{\"volumes\":[{\"name\":\"root\",\"containerDisk\":{}},"
                + "{\"name\":\"data\",\"hostDisk\":{\"path\":\"/var/run/kubevirt-private/vmi-disks/data/d.img\","
                + "\"type\":\"DiskOrCreate\"}}]}}";
        String mapped = PodCommands.mapHostDisks(json, mounts);
        assertTrue(mapped.contains("\"path\":\"/sb/host/var/lib/d/d.img\""), mapped);
        assertTrue(mapped.contains("\"type\":\"DiskOrCreate\""), mapped);
        assertEquals("--accel", PodCommands.mapHostDisks("--accel", mounts));
        String noHostDisk = "{\"spec\":{\"volumes\":[]}}";
        assertEquals(noHostDisk, PodCommands.mapHostDisks(noHostDisk, mounts));
    }

    @Test
    void theDirectoryClaimsAreMountedInListsThemAndMountsUnderAMountAreLeftOut() {
        Map<String, Path> mounts = new LinkedHashMap<>();
        mounts.put("/run/qvirt", Path.of("/sb/run"));
        mounts.put("/tmp", Path.of("/sb/pods/p/volumes/tmp"));
        mounts.put("/var/run/kubevirt-private/vmi-disks/data", Path.of("/sb/claims/pvc-1"));
        mounts.put("/var/run/kubevirt-private/vmi-disks/root", Path.of("/sb/claims/pvc-2"));
        mounts.put("/run/qvirt/inner", Path.of("/x"));
        Map<String, Map<String, Path>> parents = PodCommands.mountParents(mounts);
        assertEquals(Map.of("data", Path.of("/sb/claims/pvc-1"), "root", Path.of("/sb/claims/pvc-2")),
                parents.get("/var/run/kubevirt-private/vmi-disks"));
        assertTrue(parents.containsKey("/run"), "the agent links only the parents a command names: " + parents);
        assertTrue(!parents.containsKey("/run/qvirt") && !parents.containsKey("/"), parents.toString());
    }
}
