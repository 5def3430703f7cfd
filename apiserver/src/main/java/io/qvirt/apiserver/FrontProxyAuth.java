package io.qvirt.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.logging.Logger;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Who may speak for a user: the aggregator (kube-apiserver's front proxy) presents a client certificate signed by
 * the request-header CA, whose CN must be one of the allowed names (an empty list allows any CN that CA signed), as
 * Kubernetes' {@code requestheader} authenticator. Only then are {@code X-Remote-User}/{@code X-Remote-Group}
 * believed.
 *
 * <p>The TLS layer asks for a client certificate but lets any through ({@link ApiServerTls}): the chain is verified
 * here (PKIX against the CA, validity dates, extended key usage clientAuth when present), so a missing certificate,
 * one from another CA and an expired one all end in KubeVirt's 401 {@code request is not authenticated}, and the CA
 * can change without rebuilding the TLS context. The CA and names come from files (re-read when they change) or
 * from the {@code kube-system/extension-apiserver-authentication} ConfigMap's {@code requestheader-client-ca-file}
 * and {@code requestheader-allowed-names} (re-read every 30 s).
 */
public final class FrontProxyAuth {
    private static final Logger LOG = Logger.getLogger(FrontProxyAuth.class.getName());

    /** The CA certificates (PEM) and the allowed CNs, as last read. */
    public record Material(byte[] caPem, List<String> allowedNames) {
    }

    private final Supplier<Material> source;
    private final long refreshNanos;
    private Material material;
    private Set<TrustAnchor> anchors = Set.of();
    private long readAt;

    public FrontProxyAuth(Supplier<Material> source, long refreshMillis) {
        this.source = source;
        this.refreshNanos = refreshMillis * 1_000_000L;
        refresh(true);
    }

    /** CA and names from files ({@code allowedNames} fixed). */
    public static Supplier<Material> fromFile(Path ca, List<String> allowedNames) {
        return () -> {
            try {
                return new Material(Files.readAllBytes(ca), allowedNames);
            } catch (java.io.IOException e) {
                throw new IllegalStateException("cannot read the request-header CA " + ca + ": " + e.getMessage(), e);
            }
        };
    }

    /** CA and names from {@code kube-system/extension-apiserver-authentication}, as kube-apiserver publishes them. */
    public static Supplier<Material> fromConfigMap(KubernetesClient client) {
        return () -> {
            ConfigMap cm = client.configMaps().inNamespace("kube-system").withName("extension-apiserver-authentication").get();
            if (cm == null || cm.getData() == null || cm.getData().get("requestheader-client-ca-file") == null) {
                throw new IllegalStateException("kube-system/extension-apiserver-authentication has no requestheader-client-ca-file");
            }
            List<String> names = new ArrayList<>();
            String raw = cm.getData().get("requestheader-allowed-names");
            if (raw != null && !raw.isBlank()) {
                try {
                    for (JsonNode n : Options.JSON.readTree(raw)) {
                        names.add(n.asText());
                    }
                } catch (java.io.IOException e) {
                    throw new IllegalStateException("requestheader-allowed-names is not a JSON list: " + raw, e);
                }
            }
            return new Material(cm.getData().get("requestheader-client-ca-file").getBytes(StandardCharsets.US_ASCII), names);
        };
    }

    private synchronized void refresh(boolean mustLoad) {
        if (!mustLoad && System.nanoTime() - readAt < refreshNanos) {
            return;
        }
        readAt = System.nanoTime();
        try {
            Material m = source.get();
            if (material != null && Arrays.equals(m.caPem(), material.caPem()) && m.allowedNames().equals(material.allowedNames())) {
                return;
            }
            Set<TrustAnchor> a = new HashSet<>();
            for (X509Certificate c : Pem.certificates(m.caPem())) {
                a.add(new TrustAnchor(c, null));
            }
            anchors = a;
            material = m;
            LOG.info("front-proxy client CA loaded (" + a.size() + " certificate(s)); allowed names "
                    + (m.allowedNames().isEmpty() ? "any" : m.allowedNames()));
        } catch (Exception e) {
            if (mustLoad) {
                throw new IllegalStateException("front-proxy client CA: " + e.getMessage(), e);
            }
            LOG.warning("front-proxy client CA not refreshed, keeping the previous one: " + e.getMessage());
        }
    }

    /**
     * The verified front proxy's CN, or null if {@code chain} is absent, not from the CA, expired, not for client
     * authentication or not an allowed name.
     */
    public String authenticate(X509Certificate[] chain) {
        if (chain == null || chain.length == 0) {
            return null;
        }
        refresh(false);
        Set<TrustAnchor> a;
        List<String> names;
        synchronized (this) {
            a = anchors;
            names = material.allowedNames();
        }
        try {
            X509Certificate leaf = chain[0];
            leaf.checkValidity();
            List<String> eku = leaf.getExtendedKeyUsage();
            if (eku != null && !eku.contains("1.3.6.1.5.5.7.3.2")) {
                return null;
            }
            PKIXParameters p = new PKIXParameters(a);
            p.setRevocationEnabled(false);
            CertPathValidator.getInstance("PKIX").validate(
                    CertificateFactory.getInstance("X.509").generateCertPath(List.of(chain)), p);
            String cn = commonName(leaf);
            if (!names.isEmpty() && !names.contains(cn)) {
                LOG.fine("front-proxy certificate CN " + cn + " is not an allowed name " + names);
                return null;
            }
            return cn == null ? "" : cn;
        } catch (Exception e) {
            LOG.fine("client certificate refused: " + e);
            return null;
        }
    }

    static String commonName(X509Certificate c) throws Exception {
        for (Rdn r : new LdapName(c.getSubjectX500Principal().getName()).getRdns()) {
            if ("CN".equalsIgnoreCase(r.getType())) {
                return String.valueOf(r.getValue());
            }
        }
        return null;
    }
}
