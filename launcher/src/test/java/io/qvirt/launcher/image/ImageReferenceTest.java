package io.qvirt.launcher.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ImageReferenceTest {
    private static final String D = "sha256:" + "ab".repeat(32);

    @Test
    void dockerHubShortNamesGetLibraryAndLatest() {
        ImageReference r = ImageReference.parse("busybox");
        assertEquals(new ImageReference("docker.io", "library/busybox", "latest", null), r);
        assertEquals("docker.io/library/busybox:latest", r.toString());
        assertEquals("latest", r.reference());
        assertEquals(new ImageReference("docker.io", "kubevirt/cirros", "v1", null), ImageReference.parse("kubevirt/cirros:v1"));
        assertEquals("docker.io", ImageReference.parse("index.docker.io/library/alpine:3").registry());
        assertEquals("library/alpine", ImageReference.parse("docker.io/alpine").repository());
    }

    @Test
    void registryHostsPortsAndLocalhost() {
        assertEquals(new ImageReference("127.0.0.1:5000", "qvirt/guest", "latest", null),
                ImageReference.parse("127.0.0.1:5000/qvirt/guest:latest"));
        assertEquals(new ImageReference("quay.io", "containerdisks/fedora", "40", null), ImageReference.parse("quay.io/containerdisks/fedora:40"));
        assertEquals("localhost", ImageReference.parse("localhost/x").registry());
        assertEquals("localhost:5000", ImageReference.parse("localhost:5000/a/b/c:t").registry());
        assertEquals("a/b/c", ImageReference.parse("localhost:5000/a/b/c:t").repository());
        // A port-less host with no dot is a repository component on Docker Hub, as Docker reads it.
        assertEquals("docker.io", ImageReference.parse("myhost/x").registry());
    }

    @Test
    void digestsPinAndWinOverTags() {
        ImageReference r = ImageReference.parse("quay.io/a/b@" + D);
        assertNull(r.tag());
        assertEquals(D, r.reference());
        assertTrue(r.pinned());
        ImageReference both = ImageReference.parse("quay.io/a/b:1.0@" + D);
        assertEquals("1.0", both.tag());
        assertEquals(D, both.reference());
        assertFalse(ImageReference.parse("quay.io/a/b:1.0").pinned());
        assertEquals("mirror:5000/a/b:1.0@" + D, both.at("mirror:5000").toString());
    }

    @Test
    void badReferencesNameWhatIsWrong() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageReference.parse("Quay.io/A/B"));
        assertTrue(e.getMessage().contains("'Quay.io/A/B' is not a valid image reference"), e.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ImageReference.parse("x@sha256:abc"))
                .getMessage().contains("64 lower-case hex"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ImageReference.parse("x:-bad"))
                .getMessage().contains("tag '-bad'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ImageReference.parse("quay.io/"))
                .getMessage().contains("repository"));
        assertThrows(IllegalArgumentException.class, () -> ImageReference.parse(" "));
        assertThrows(IllegalArgumentException.class, () -> ImageReference.parse("a//b"));
    }
}
