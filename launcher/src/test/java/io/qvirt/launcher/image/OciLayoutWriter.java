package io.qvirt.launcher.image;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * Writes an OCI image layout (oci-layout, index.json, blobs/sha256/...) that {@code skopeo copy oci:DIR:TAG}
 * reads, with layers made of whatever tar entries a test wants, hostile ones included. Names and link targets
 * longer than ustar's 100 bytes go in a pax extended header, as GNU tar writes them.
 */
final class OciLayoutWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip";

    /**
     * One layer blob and the size the manifest declares for it (normally its length; a lie for tests).
     */
    record Layer(byte[] blob, long declaredSize) {
        static Layer of(byte[] blob) {
            return new Layer(blob, blob.length);
        }
    }

    /** What was written: the manifest's digest and bytes, and each layer's digest. */
    record Written(Path dir, String tag, String manifestDigest, byte[] manifest, List<String> layerDigests) {
    }

    private OciLayoutWriter() {
    }

    /**
     * Writes a layout holding one image tagged {@code tag} over {@code layers} (bottom first); {@code annotation},
     * when not null, is put in the manifest's annotations (to make a manifest as large as a test wants).
     */
    static Written write(Path dir, String tag, List<Layer> layers, String annotation) throws IOException {
        Files.createDirectories(dir.resolve("blobs/sha256"));
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        ObjectNode config = JSON.createObjectNode().put("architecture", "amd64").put("os", "linux");
        ObjectNode rootfs = config.putObject("rootfs").put("type", "layers");
        ArrayNode diffIds = rootfs.putArray("diff_ids");
        ObjectNode manifest = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", Manifest.OCI_MANIFEST);
        ArrayNode ls = JSON.createArrayNode();
        List<String> digests = new java.util.ArrayList<>();
        for (Layer l : layers) {
            String d = blob(dir, l.blob());
            digests.add(d);
            // The diff_id is the uncompressed tar's digest; skopeo does not check it for a plain copy, and qvirt never
            // reads the config: the compressed digest stands in so the config stays small for a gzip bomb.
            diffIds.add(d);
            ls.addObject().put("mediaType", LAYER_TYPE).put("digest", d).put("size", l.declaredSize());
        }
        byte[] cfg = JSON.writeValueAsBytes(config);
        manifest.putObject("config").put("mediaType", "application/vnd.oci.image.config.v1+json")
                .put("digest", blob(dir, cfg)).put("size", cfg.length);
        manifest.set("layers", ls);
        if (annotation != null) {
            manifest.putObject("annotations").put("io.qvirt.test.padding", annotation);
        }
        byte[] m = JSON.writeValueAsBytes(manifest);
        String md = blob(dir, m);
        ObjectNode index = JSON.createObjectNode().put("schemaVersion", 2);
        index.putArray("manifests").addObject().put("mediaType", Manifest.OCI_MANIFEST).put("digest", md)
                .put("size", m.length).putObject("annotations").put("org.opencontainers.image.ref.name", tag);
        Files.write(dir.resolve("index.json"), JSON.writeValueAsBytes(index));
        return new Written(dir, tag, md, m, List.copyOf(digests));
    }

    private static String blob(Path dir, byte[] content) throws IOException {
        String d = FakeRegistryPeer.digest(content);
        Files.write(dir.resolve("blobs/sha256").resolve(d.substring(7)), content);
        return d;
    }

    /** A gzip'd tar of the entries, in order, ending with the two zero blocks. */
    static byte[] gzipTar(List<FakeRegistryPeer.TarEntry> entries) {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bo)) {
            for (FakeRegistryPeer.TarEntry e : entries) {
                writeEntry(gz, e.name(), e.type(), e.link(), e.content());
            }
            gz.write(new byte[1024]);
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory", e);
        }
        return bo.toByteArray();
    }

    private static void writeEntry(OutputStream out, String name, char type, String link, byte[] content) throws IOException {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        byte[] l = link.getBytes(StandardCharsets.UTF_8);
        if (n.length > 100 || l.length > 100) {
            StringBuilder pax = new StringBuilder();
            if (n.length > 100) {
                pax.append(paxRecord("path", name));
            }
            if (l.length > 100) {
                pax.append(paxRecord("linkpath", link));
            }
            byte[] p = pax.toString().getBytes(StandardCharsets.UTF_8);
            out.write(header("PaxHeaders/x", p.length, 'x', ""));
            out.write(p);
            out.write(new byte[(512 - p.length % 512) % 512]);
        }
        out.write(header(n.length > 100 ? "long-name" : name, content.length, type, l.length > 100 ? "" : link));
        out.write(content);
        out.write(new byte[(512 - content.length % 512) % 512]);
    }

    /** A pax record "LEN key=value\n", LEN counting its own digits. */
    private static String paxRecord(String key, String value) {
        int body = (" " + key + "=" + value + "\n").getBytes(StandardCharsets.UTF_8).length;
        int len = body + Integer.toString(body).length();
        if (Integer.toString(len).length() != Integer.toString(body).length()) {
            len++;
        }
        return len + " " + key + "=" + value + "\n";
    }

    private static byte[] header(String name, long size, char type, String link) {
        byte[] h = new byte[512];
        put(h, 0, name);
        put(h, 100, "0000644");
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, String.format("%011o", size));
        put(h, 136, "00000000000");
        h[156] = (byte) type;
        put(h, 157, link);
        put(h, 257, "ustar");
        h[263] = '0';
        h[264] = '0';
        java.util.Arrays.fill(h, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        return h;
    }

    private static void put(byte[] h, int off, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(b, 0, h, off, b.length);
    }
}
