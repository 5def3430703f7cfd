package io.qvirt.handler.migration;

import io.qvirt.handler.nodeapi.TlsFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test PKI made with the {@code openssl} CLI: qvirt's CA with a handler certificate (serverAuth and clientAuth,
 * as the contract has every handler present one), and a foreign CA with a handler-like certificate of its own.
 * EC P-256, in the handler's PEM forms (the key as SEC 1, as KubeVirt's Secrets hold it).
 */
final class MigrationTestPki {
    record Pair(Path cert, Path key) {
    }

    final Path dir;
    final Pair ca;
    final Pair handler;
    final Pair foreignCa;
    final Pair foreignHandler;

    private MigrationTestPki(Path dir) throws IOException, InterruptedException {
        this.dir = dir;
        ca = selfSignedCa("qvirt-ca");
        handler = issue(ca, "kubevirt.io:system:node:virt-handler", "handler");
        foreignCa = selfSignedCa("foreign-ca");
        foreignHandler = issue(foreignCa, "kubevirt.io:system:node:virt-handler", "foreign-handler");
    }

    static MigrationTestPki create(Path dir) throws IOException, InterruptedException {
        return new MigrationTestPki(dir);
    }

    /** The handler's files: its pair, qvirt's CA. */
    TlsFiles handlerFiles() {
        return new TlsFiles(handler.cert(), handler.key(), ca.cert());
    }

    /** A certificate from the foreign CA, trusting qvirt's CA (so it would accept the server). */
    TlsFiles foreignFiles() {
        return new TlsFiles(foreignHandler.cert(), foreignHandler.key(), ca.cert());
    }

    private Pair selfSignedCa(String cn) throws IOException, InterruptedException {
        Pair p = new Pair(dir.resolve(cn + ".crt"), dir.resolve(cn + ".key"));
        openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", p.key().toString(), "-out", p.cert().toString(), "-days", "2", "-subj", "/CN=" + cn,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        return p;
    }

    private Pair issue(Pair issuer, String cn, String name) throws IOException, InterruptedException {
        Path pkcs8 = dir.resolve(name + ".pkcs8.key");
        Pair p = new Pair(dir.resolve(name + ".crt"), dir.resolve(name + ".key"));
        Path csr = dir.resolve(name + ".csr");
        Path ext = dir.resolve(name + ".ext");
        Files.writeString(ext, "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                + "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1\n");
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                pkcs8.toString(), "-out", csr.toString(), "-subj", "/CN=" + cn);
        byte[] serial = new byte[8];
        new SecureRandom().nextBytes(serial);
        serial[0] &= 0x7f;
        openssl("x509", "-req", "-in", csr.toString(), "-CA", issuer.cert().toString(), "-CAkey", issuer.key().toString(),
                "-set_serial", "0x" + HexFormat.of().formatHex(serial), "-days", "2", "-extfile", ext.toString(),
                "-out", p.cert().toString());
        openssl("ec", "-in", pkcs8.toString(), "-out", p.key().toString());
        return p;
    }

    private void openssl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Path log = dir.resolve("openssl.log");
        Process pr = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!pr.waitFor(30, TimeUnit.SECONDS)) {
            pr.destroyForcibly();
            throw new IOException("openssl timed out: " + cmd);
        }
        if (pr.exitValue() != 0) {
            throw new IOException("openssl failed (" + pr.exitValue() + "): " + cmd + "\n" + Files.readString(log));
        }
    }
}
