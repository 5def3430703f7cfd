package io.qvirt.testdata;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A test PKI made with the {@code openssl} CLI: one CA, and server or client certificates it signs (RSA 2048,
 * keys as unencrypted PKCS#8 PEM, mode 0600; certificates PEM). For the sandbox rig (the handler's node API
 * with mutual TLS) and for tests that need the same. Nothing here is fit for production: the CA key lies
 * next to its certificate.
 *
 * <p>Files: {@code DIR/ca.crt}, {@code DIR/ca.key}, {@code DIR/<name>.crt}, {@code DIR/<name>.key}.
 */
public final class TestPki {
    private final Path dir;

    private TestPki(Path dir) {
        this.dir = dir;
    }

    /**
     * The PKI in {@code dir}: its CA is made if {@code ca.crt} or {@code ca.key} is missing (valid 10 years,
     * subject {@code CN=<caName>}).
     *
     * @throws IOException if openssl fails (its output is in the message)
     */
    public static TestPki open(Path dir, String caName) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        TestPki pki = new TestPki(dir);
        if (!Files.isRegularFile(pki.caCert()) || !Files.isRegularFile(pki.caKey())) {
            pki.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "3650",
                    "-keyout", pki.caKey().toString(), "-out", pki.caCert().toString(), "-subj", "/CN=" + caName,
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign");
            restrict(pki.caKey());
        }
        return pki;
    }

    public Path dir() {
        return dir;
    }

    public Path caCert() {
        return dir.resolve("ca.crt");
    }

    public Path caKey() {
        return dir.resolve("ca.key");
    }

    public Path cert(String name) {
        return dir.resolve(name + ".crt");
    }

    public Path key(String name) {
        return dir.resolve(name + ".key");
    }

    /**
     * A server certificate {@code <name>.crt/.key}, CN {@code name}, with the given SANs; extended key usage
     * serverAuth (and clientAuth, so a node can also call out with it).
     *
     * @param ips IP SANs (e.g. {@code 127.0.1.1})
     * @param dns DNS SANs (e.g. {@code sandbox-node-1})
     */
    public void server(String name, List<String> ips, List<String> dns) throws IOException, InterruptedException {
        List<String> san = new ArrayList<>();
        ips.forEach(ip -> san.add("IP:" + ip));
        dns.forEach(d -> san.add("DNS:" + d));
        issue(name, name, "serverAuth,clientAuth", san);
    }

    /** A client certificate {@code <name>.crt/.key} with subject {@code CN=cn}, extended key usage clientAuth. */
    public void client(String name, String cn) throws IOException, InterruptedException {
        issue(name, cn, "clientAuth", List.of());
    }

    private void issue(String name, String cn, String eku, List<String> san) throws IOException, InterruptedException {
        Path csr = dir.resolve(name + ".csr");
        Path ext = dir.resolve(name + ".ext");
        try {
            openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-sha256", "-keyout", key(name).toString(),
                    "-out", csr.toString(), "-subj", "/CN=" + cn);
            restrict(key(name));
            StringBuilder e = new StringBuilder()
                    .append("basicConstraints=critical,CA:FALSE\n")
                    .append("keyUsage=critical,digitalSignature,keyEncipherment\n")
                    .append("extendedKeyUsage=").append(eku).append('\n');
            if (!san.isEmpty()) {
                e.append("subjectAltName=").append(String.join(",", san)).append('\n');
            }
            Files.writeString(ext, e.toString());
            openssl("x509", "-req", "-sha256", "-days", "3650", "-in", csr.toString(), "-CA", caCert().toString(),
                    "-CAkey", caKey().toString(), "-set_serial", "0x" + Long.toHexString(System.nanoTime() & Long.MAX_VALUE),
                    "-extfile", ext.toString(), "-out", cert(name).toString());
        } finally {
            Files.deleteIfExists(csr);
            Files.deleteIfExists(ext);
        }
    }

    private static void restrict(Path key) throws IOException {
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    }

    /** Runs openssl (at most 30 s); fails with its output. */
    private void openssl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("openssl " + args[0] + " did not finish within 30 s");
        }
        if (p.exitValue() != 0) {
            throw new IOException("openssl " + String.join(" ", args) + " failed (exit " + p.exitValue() + "): "
                    + new String(out, StandardCharsets.UTF_8).trim());
        }
    }
}
