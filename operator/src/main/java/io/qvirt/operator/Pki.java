package io.qvirt.operator;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The certificates virt-operator makes: a CA and the leaf certificates it signs (ECDSA P-256, SHA-256), PEM
 * certificates and PKCS#8 {@code PRIVATE KEY} PEM keys, which virt-api's and virt-handler's PEM loaders read.
 */
final class Pki {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Pki() {
    }

    /** A certificate and its key, PEM. */
    record Pem(String cert, String key) {
        X509Certificate certificate() throws GeneralSecurityException {
            return parseCertificate(cert);
        }

        PrivateKey privateKey() throws GeneralSecurityException {
            String b64 = key.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
            return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(b64)));
        }
    }

    /** What a leaf certificate is for: its subject, names and extended key usages. */
    record LeafSpec(String commonName, List<String> dnsNames, List<String> ipAddresses, boolean serverAuth,
                    boolean clientAuth) {
        LeafSpec {
            dnsNames = List.copyOf(dnsNames);
            ipAddresses = List.copyOf(ipAddresses);
        }
    }

    /** A self-signed CA, valid from now for {@code validity}. */
    static Pem newCa(String commonName, Instant now, Duration validity) throws GeneralSecurityException {
        KeyPair kp = keyPair();
        X500Name name = new X500Name("CN=" + commonName);
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(), Date.from(now.minusSeconds(60)),
                Date.from(now.plus(validity)), name, kp.getPublic());
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
            return new Pem(pem("CERTIFICATE", sign(b, kp.getPrivate()).getEncoded()),
                    pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException(e);
        }
    }

    /** A leaf certificate signed by {@code ca}, valid from now for {@code validity}. */
    static Pem issue(Pem ca, LeafSpec spec, Instant now, Duration validity) throws GeneralSecurityException {
        X509Certificate caCert = ca.certificate();
        KeyPair kp = keyPair();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caCert, serial(), Date.from(now.minusSeconds(60)),
                Date.from(now.plus(validity)), new X500Name("CN=" + spec.commonName()), kp.getPublic());
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            List<KeyPurposeId> eku = new ArrayList<>();
            if (spec.serverAuth()) {
                eku.add(KeyPurposeId.id_kp_serverAuth);
            }
            if (spec.clientAuth()) {
                eku.add(KeyPurposeId.id_kp_clientAuth);
            }
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(eku.toArray(KeyPurposeId[]::new)));
            List<GeneralName> names = new ArrayList<>();
            spec.dnsNames().forEach(n -> names.add(new GeneralName(GeneralName.dNSName, n)));
            spec.ipAddresses().forEach(n -> names.add(new GeneralName(GeneralName.iPAddress, n)));
            if (!names.isEmpty()) {
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
            }
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(caCert));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
            return new Pem(pem("CERTIFICATE", sign(b, ca.privateKey()).getEncoded()),
                    pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException(e);
        }
    }

    /**
     * Whether {@code leaf} is still good at {@code now}: signed by {@code ca}, more than a fifth of its lifetime
     * left (so it is renewed well before it expires), and naming every address in {@code ipAddresses}.
     */
    static boolean fresh(X509Certificate leaf, X509Certificate ca, Instant now, List<String> ipAddresses) {
        try {
            leaf.verify(ca.getPublicKey());
        } catch (GeneralSecurityException e) {
            return false;
        }
        long life = leaf.getNotAfter().getTime() - leaf.getNotBefore().getTime();
        if (leaf.getNotAfter().getTime() - now.toEpochMilli() < life / 5) {
            return false;
        }
        if (ipAddresses.isEmpty()) {
            return true;
        }
        List<String> have = new ArrayList<>();
        try {
            if (leaf.getSubjectAlternativeNames() != null) {
                for (List<?> san : leaf.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(GeneralName.iPAddress).equals(san.get(0))) {
                        have.add(InetAddress.getByName((String) san.get(1)).getHostAddress());
                    }
                }
            }
            for (String ip : ipAddresses) {
                if (!have.contains(InetAddress.getByName(ip).getHostAddress())) {
                    return false;
                }
            }
        } catch (java.security.cert.CertificateParsingException | java.net.UnknownHostException e) {
            return false;
        }
        return true;
    }

    /** Every certificate of a PEM bundle, in order. */
    static List<X509Certificate> certificates(String pem) throws GeneralSecurityException {
        List<X509Certificate> out = new ArrayList<>();
        for (var c : CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
            out.add((X509Certificate) c);
        }
        return out;
    }

    static X509Certificate parseCertificate(String pem) throws GeneralSecurityException {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(64, RANDOM).add(BigInteger.ONE);
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
