package io.qvirt.launcher.plan;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Disk image formats qvirt hands to QEMU, told apart by their first bytes (never by name). */
public enum ImageFormat {
    RAW("raw"), QCOW2("qcow2");

    private final String qemuName;

    ImageFormat(String qemuName) {
        this.qemuName = qemuName;
    }

    public String qemuName() {
        return qemuName;
    }

    /** qcow2 if the file starts with {@code QFI\xfb}, else raw (as KubeVirt treats disk.img). */
    public static ImageFormat detect(Path p) {
        byte[] magic = new byte[4];
        try (InputStream in = Files.newInputStream(p)) {
            if (in.readNBytes(magic, 0, 4) == 4 && magic[0] == 'Q' && magic[1] == 'F' && magic[2] == 'I'
                    && (magic[3] & 0xff) == 0xfb) {
                return QCOW2;
            }
        } catch (IOException e) {
            return RAW;
        }
        return RAW;
    }
}
