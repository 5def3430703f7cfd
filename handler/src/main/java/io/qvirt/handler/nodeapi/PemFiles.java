package io.qvirt.handler.nodeapi;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Certificates and private keys from PEM, in the forms a Kubernetes Secret holds them: besides PKCS#8
 * ({@code PRIVATE KEY}), the "traditional" {@code EC PRIVATE KEY} (SEC 1) and {@code RSA PRIVATE KEY}
 * (PKCS#1) that KubeVirt's certificate code and cert-manager write. The JDK reads only PKCS#8, so the
 * other two are wrapped into it (their DER becomes the PKCS#8 structure's key octets), with no crypto
 * library beyond the JDK. Encrypted keys are refused: a mounted Secret's key has no passphrase.
 */
public final class PemFiles {
    private static final Pattern KEY = Pattern.compile(
            "-----BEGIN ([A-Z ]*PRIVATE KEY)-----(.*?)-----END \\1-----", Pattern.DOTALL);
    /** rsaEncryption (1.2.840.113549.1.1.1) with its NULL parameters, as DER. */
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
            (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    /** id-ecPublicKey (1.2.840.10045.2.1), as a DER OID. */
    private static final byte[] EC_PUBLIC_KEY_OID = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

    private PemFiles() {
    }

    /** Every certificate in {@code pem}, in order. @throws GeneralSecurityException if there is none */
    public static List<X509Certificate> certificates(byte[] pem) throws GeneralSecurityException {
        List<X509Certificate> out = new ArrayList<>();
        for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))) {
            out.add((X509Certificate) c);
        }
        if (out.isEmpty()) {
            throw new GeneralSecurityException("no certificate in the PEM file");
        }
        return out;
    }

    /** The first private key in {@code pem} (other blocks, such as {@code EC PARAMETERS}, are skipped). */
    public static PrivateKey privateKey(byte[] pem) throws GeneralSecurityException {
        Matcher m = KEY.matcher(new String(pem, StandardCharsets.US_ASCII));
        if (!m.find()) {
            throw new GeneralSecurityException("no PEM private key (PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(m.group(2).strip());
        } catch (IllegalArgumentException e) {
            throw new GeneralSecurityException("the PEM private key is not valid base64", e);
        }
        return switch (m.group(1)) {
            case "PRIVATE KEY" -> pkcs8(der);
            case "RSA PRIVATE KEY" -> KeyFactory.getInstance("RSA").generatePrivate(
                    new PKCS8EncodedKeySpec(sequence(new byte[] {0x02, 0x01, 0x00}, RSA_ALGORITHM, tlv(0x04, der))));
            case "EC PRIVATE KEY" -> KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(sequence(
                    new byte[] {0x02, 0x01, 0x00}, sequence(EC_PUBLIC_KEY_OID, curveOf(der)), tlv(0x04, der))));
            case "ENCRYPTED PRIVATE KEY" -> throw new GeneralSecurityException("encrypted private keys are not supported");
            default -> throw new GeneralSecurityException("unsupported PEM key type " + m.group(1));
        };
    }

    /** A PKCS#8 key of whichever algorithm its identifier names (the JDK's factories check it). */
    private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
        for (String alg : List.of("EC", "RSA", "Ed25519", "Ed448", "RSASSA-PSS")) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (InvalidKeySpecException e) {
                // Not this algorithm: try the next.
            }
        }
        throw new GeneralSecurityException("PKCS#8 private key of an unsupported algorithm");
    }

    /**
     * The named-curve OID (a full DER TLV) in a SEC 1 ECPrivateKey's {@code [0] parameters}:
     * SEQUENCE { INTEGER 1, OCTET STRING key, [0] ECParameters, [1] BIT STRING }.
     */
    private static byte[] curveOf(byte[] sec1) throws GeneralSecurityException {
        int[] seq = header(sec1, 0);
        if (sec1[0] != 0x30) {
            throw new GeneralSecurityException("EC PRIVATE KEY is not a DER SEQUENCE");
        }
        int pos = seq[0];
        int end = seq[0] + seq[1];
        while (pos < end) {
            int[] h = header(sec1, pos);
            if ((sec1[pos] & 0xff) == 0xa0) {
                int[] oid = header(sec1, h[0]);
                if (sec1[h[0]] != 0x06) {
                    throw new GeneralSecurityException("EC PRIVATE KEY parameters are not a named curve");
                }
                byte[] out = new byte[oid[0] + oid[1] - h[0]];
                System.arraycopy(sec1, h[0], out, 0, out.length);
                return out;
            }
            pos = h[0] + h[1];
        }
        throw new GeneralSecurityException("EC PRIVATE KEY names no curve (write it with its parameters)");
    }

    /** {contentStart, contentLength} of the DER element at {@code pos}, bounds-checked. */
    private static int[] header(byte[] der, int pos) throws GeneralSecurityException {
        if (pos + 2 > der.length) {
            throw new GeneralSecurityException("truncated DER");
        }
        int len = der[pos + 1] & 0xff;
        int start = pos + 2;
        if (len >= 0x80) {
            int n = len & 0x7f;
            if (n == 0 || n > 3 || start + n > der.length) {
                throw new GeneralSecurityException("bad DER length");
            }
            len = 0;
            for (int i = 0; i < n; i++) {
                len = (len << 8) | (der[start + i] & 0xff);
            }
            start += n;
        }
        if (start + len > der.length) {
            throw new GeneralSecurityException("truncated DER");
        }
        return new int[] {start, len};
    }

    private static byte[] sequence(byte[]... parts) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            body.writeBytes(p);
        }
        return tlv(0x30, body.toByteArray());
    }

    private static byte[] tlv(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int n = content.length;
        if (n < 0x80) {
            out.write(n);
        } else if (n < 0x100) {
            out.write(0x81);
            out.write(n);
        } else if (n < 0x10000) {
            out.write(0x82);
            out.write(n >> 8);
            out.write(n);
        } else {
            out.write(0x83);
            out.write(n >> 16);
            out.write(n >> 8);
            out.write(n);
        }
        out.writeBytes(content);
        return out.toByteArray();
    }
}
