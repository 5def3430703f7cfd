package io.qvirt.launcher.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --pvc-dir} of {@code validate}, {@code render} and {@code run}: a claim's disk on one machine. */
class ClaimOptionsTest {
    static final String VM = """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata:
              name: pvc-vm
            spec:
              runStrategy: Halted
              template:
                spec:
                  domain:
                    devices:
                      disks:
                      - name: root
                        disk: {bus: virtio}
                    memory: {guest: 128Mi}
                  volumes:
                  - name: root
                    persistentVolumeClaim:
                      claimName: fedora
            """;

    @TempDir
    Path tmp;

    record Outcome(int code, String out, String err) {
    }

    Outcome launcher(String command, String... args) throws Exception {
        Path file = tmp.resolve("vm.yaml");
        Files.writeString(file, VM);
        List<String> argv = new ArrayList<>(List.of(command, file.toString(), "--runtime-root", tmp.resolve("run").toString()));
        argv.addAll(List.of(args));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = LauncherCommand.create(new PrintWriter(out, true), new PrintWriter(err, true))
                .execute(argv.toArray(String[]::new));
        return new Outcome(code, out.toString(), err.toString());
    }

    @Test
    void withoutPvcDirTheClaimIsRefusedWithTheWayOut() throws Exception {
        Outcome v = launcher("validate");
        assertEquals(ExitCodes.INVALID, v.code());
        assertTrue(v.err().contains("spec.template.spec.volumes[0].persistentVolumeClaim: not supported by qvirt on one "
                + "machine without --pvc-dir DIR (the claim's disk.img at DIR/root/disk.img)"), v.err());
    }

    @Test
    void aClaimNotUnderPvcDirIsNamedBeforeAnythingIsMade() throws Exception {
        Path claims = Files.createDirectories(tmp.resolve("claims"));
        Outcome v = launcher("run", "--pvc-dir", claims.toString(), "--accel", "tcg");
        assertEquals(ExitCodes.INVALID, v.code(), v.out() + v.err());
        assertTrue(v.err().contains("spec.template.spec.volumes[0].persistentVolumeClaim.claimName: claim 'fedora' is not "
                + "mounted in the launcher pod at " + claims.resolve("root")), v.err());
        assertTrue(!Files.exists(tmp.resolve("run/default/pvc-vm")), "nothing made for a refused VM");
    }

    @Test
    void theClaimsDiskImgIsTheVmsDiskRaw() throws Exception {
        Path img = Files.createDirectories(tmp.resolve("claims/root")).resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(32L << 20);
        }
        Outcome v = launcher("validate", "--pvc-dir", tmp.resolve("claims").toString());
        assertEquals(0, v.code(), v.err());
        Outcome r = launcher("render", "--pvc-dir", tmp.resolve("claims").toString(), "--accel", "tcg");
        assertEquals(0, r.code(), r.err());
        String blockdev = r.out().lines().filter(a -> a.contains(img.toString())).findFirst().orElse("");
        assertTrue(blockdev.contains("\"filename\":\"" + img + "\"") || blockdev.contains("filename=" + img), r.out());
        assertTrue(r.out().contains("\"driver\":\"raw\"") || r.out().contains("driver=raw"), r.out());
    }
}
