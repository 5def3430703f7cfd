package io.qvirt.launcher.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Writes an ISO 9660 image with Rock Ridge and Joliet names, as cloud-init's NoCloud datasource reads it
 * (volume id {@code cidata}). The files are staged byte for byte in a private directory beside the ISO,
 * then {@code xorriso -as mkisofs} runs with an argument list, never a shell string.
 */
final class NoCloudIso {
    private NoCloudIso() {
    }

    /**
     * @param iso      the image to write (its directory exists and is the VM's)
     * @param volumeId at most 32 characters of d-characters ({@code cidata}, {@code config-2})
     * @param files    plain file names (no '/') to their exact contents
     * @throws IOException if xorriso is missing or fails; the partial image and staging are removed
     */
    static void write(Path iso, String volumeId, Map<String, byte[]> files) throws IOException {
        Path stage = Files.createTempDirectory(iso.getParent(), ".iso-stage");
        try {
            for (Map.Entry<String, byte[]> e : new TreeMap<>(files).entrySet()) {
                if (e.getKey().isEmpty() || e.getKey().contains("/")) {
                    throw new IllegalArgumentException("ISO file name must be a plain name: '" + e.getKey() + "'");
                }
                Files.write(stage.resolve(e.getKey()), e.getValue());
            }
            List<String> cmd = new ArrayList<>(List.of("xorriso", "-as", "mkisofs", "-quiet", "-output", iso.toString(),
                    "-volid", volumeId, "-joliet", "-rock", stage.toString()));
            Process p;
            try {
                p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            } catch (IOException e) {
                throw new IOException("cannot run xorriso (apt-get install xorriso): " + e.getMessage(), e);
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            try {
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IOException("xorriso: no answer within 60 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
                throw new IOException("interrupted while xorriso ran", e);
            }
            if (p.exitValue() != 0) {
                Files.deleteIfExists(iso);
                throw new IOException("xorriso failed (exit " + p.exitValue() + "): " + out.strip());
            }
        } finally {
            try (Stream<Path> s = Files.walk(stage)) {
                for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(x);
                }
            }
        }
    }
}
