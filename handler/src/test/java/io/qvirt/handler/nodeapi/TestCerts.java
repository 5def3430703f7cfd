package io.qvirt.handler.nodeapi;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Test PKI made with the {@code openssl} CLI in a directory: a CA, a server certificate for 127.0.0.1
 * and a client certificate signed by it, and a foreign CA with its own client certificate. EC P-256 keys
 * as unencrypted PKCS#8 PEM, the form the node API reads.
 */
final class TestCerts {
    /** A certificate and its key, as PEM files. */
    record Pair(Path cert, Path key) {
    }

    final Path dir;
    final Pair ca;
    final Pair server;
    final Pair client;
    final Pair foreignCa;
    final Pair foreignClient;

    private TestCerts(Path dir) throws IOException, InterruptedException {
        this.dir = dir;
        ca = selfSignedCa("qvirt-test-ca");
        server = issue(ca, "node-api", "server", true);
        client = issue(ca, "virt-api", "client", false);
        foreignCa = selfSignedCa("foreign-ca");
        foreignClient = issue(foreignCa, "intruder", "foreign-client", false);
    }

    static TestCerts create(Path dir) throws IOException, InterruptedException {
        return new TestCerts(dir);
    }

    /** The node API's files: the server pair and the CA as client CA. */
    TlsFiles serverFiles() {
        return new TlsFiles(server.cert(), server.key(), ca.cert());
    }

    /** A new server certificate from the same CA, {@code CN=cn}, written under {@code name}. */
    Pair issueServer(String cn, String name) throws IOException, InterruptedException {
        return issue(ca, cn, name, true);
    }

    /** A server certificate from the same CA with an RSA 2048 key, the key written as PKCS#1 ({@code RSA PRIVATE KEY}). */
    Pair issueRsaServerPkcs1(String cn, String name) throws IOException, InterruptedException {
        Pair p = issue(ca, cn, name, true, List.of("-newkey", "rsa:2048"));
        Path pkcs1 = dir.resolve(name + ".pkcs1.key");
        openssl("rsa", "-in", p.key().toString(), "-traditional", "-out", pkcs1.toString());
        return new Pair(p.cert(), pkcs1);
    }

    /** {@code pair}'s EC key rewritten in SEC 1 form ({@code EC PRIVATE KEY}), as KubeVirt's Secrets hold it. */
    Pair sec1(Pair pair, String name) throws IOException, InterruptedException {
        Path sec1 = dir.resolve(name + ".sec1.key");
        openssl("ec", "-in", pair.key().toString(), "-out", sec1.toString());
        return new Pair(pair.cert(), sec1);
    }

    private Pair selfSignedCa(String cn) throws IOException, InterruptedException {
        Pair p = new Pair(dir.resolve(cn + ".crt"), dir.resolve(cn + ".key"));
        openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", p.key().toString(), "-out", p.cert().toString(), "-days", "2", "-subj", "/CN=" + cn,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        return p;
    }

    private Pair issue(Pair issuer, String cn, String name, boolean server) throws IOException, InterruptedException {
        return issue(issuer, cn, name, server, List.of("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"));
    }

    private Pair issue(Pair issuer, String cn, String name, boolean server, List<String> newKey)
            throws IOException, InterruptedException {
        Pair p = new Pair(dir.resolve(name + ".crt"), dir.resolve(name + ".key"));
        Path csr = dir.resolve(name + ".csr");
        Path ext = dir.resolve(name + ".ext");
        Files.writeString(ext, "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                + (server ? "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n" : "extendedKeyUsage=clientAuth\n"));
        List<String> req = new ArrayList<>(List.of("req", "-new"));
        req.addAll(newKey);
        req.addAll(List.of("-nodes", "-keyout", p.key().toString(), "-out", csr.toString(), "-subj", "/CN=" + cn));
        openssl(req.toArray(String[]::new));
        byte[] serial = new byte[8];
        new SecureRandom().nextBytes(serial);
        serial[0] &= 0x7f;
        openssl("x509", "-req", "-in", csr.toString(), "-CA", issuer.cert().toString(), "-CAkey", issuer.key().toString(),
                "-set_serial", "0x" + HexFormat.of().formatHex(serial), "-days", "2", "-extfile", ext.toString(),
                "-out", p.cert().toString());
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

    /** A client context presenting {@code identity} (null: no certificate) and trusting {@link #ca} for the server. */
    SSLContext clientContext(Pair identity) throws IOException, GeneralSecurityException {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", certificates(ca.cert()).get(0));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (identity != null) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            char[] pw = "test".toCharArray();
            keys.setKeyEntry("me", privateKey(identity.key()), pw, certificates(identity.cert()).toArray(new Certificate[0]));
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, pw);
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    static List<X509Certificate> certificates(Path pem) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(pem)) {
            List<X509Certificate> out = new ArrayList<>();
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                out.add((X509Certificate) c);
            }
            return out;
        }
    }

    private static PrivateKey privateKey(Path pem) throws IOException, GeneralSecurityException {
        String text = Files.readString(pem, StandardCharsets.US_ASCII);
        int begin = text.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = text.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < 0) {
            throw new IOException(pem + " is not a PKCS#8 PEM key");
        }
        byte[] der = Base64.getMimeDecoder().decode(text.substring(begin + "-----BEGIN PRIVATE KEY-----".length(), end));
        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
    }

    /** The subject CN of the first certificate in a PEM file. */
    static String subject(Path pem) throws IOException, GeneralSecurityException {
        return certificates(pem).get(0).getSubjectX500Principal().getName();
    }

}
