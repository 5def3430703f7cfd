package io.qvirt.operator;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * The install's certificates, kept in Secrets of the install namespace, each made when missing and made again when
 * it no longer verifies against the CA, has less than a fifth of its lifetime left, or (the handlers') lacks a
 * Node's address: the CA ({@value #CA_SECRET}), virt-api's serving and node-API client certificates
 * ({@value #VIRT_API_SECRET}), the handlers' ({@value #HANDLER_SECRET}) and the operator's webhook's
 * ({@value #OPERATOR_SECRET}). virt-api and virt-handler reload the mounted files, so a renewal needs no restart.
 * A new CA (at most once per CA lifetime) re-issues every certificate; its bundle then replaces the old one.
 */
final class Certificates {
    private static final Logger LOG = Logger.getLogger(Certificates.class.getName());
    static final String CA_SECRET = "kubevirt-ca";
    static final String VIRT_API_SECRET = "kubevirt-virt-api-certs";
    static final String HANDLER_SECRET = "kubevirt-virt-handler-certs";
    static final String OPERATOR_SECRET = "kubevirt-operator-certs";
    static final List<String> SECRETS = List.of(CA_SECRET, VIRT_API_SECRET, HANDLER_SECRET, OPERATOR_SECRET);

    private final KubernetesClient client;
    private final String namespace;
    private final Duration caValidity;
    private final Duration certValidity;

    /**
     * @param namespace    the install namespace (Services' DNS names are {@code NAME.NAMESPACE.svc})
     * @param caValidity   the CA's lifetime
     * @param certValidity each leaf certificate's lifetime
     */
    Certificates(KubernetesClient client, String namespace, Duration caValidity, Duration certValidity) {
        this.client = client;
        this.namespace = namespace;
        this.caValidity = caValidity;
        this.certValidity = certValidity;
    }

    /**
     * Makes or renews what needs it; {@code labels} and {@code annotations} mark each Secret as the operator's.
     *
     * @param nodeAddresses every Node's InternalIP, for the handlers' serving certificate
     * @return the CA certificate, PEM (the caBundle)
     * @throws ForeignSecretException if one of the Secrets exists without the operator's label (left alone)
     */
    String ensure(List<String> nodeAddresses, Map<String, String> labels, Map<String, String> annotations, Instant now)
            throws GeneralSecurityException, ForeignSecretException {
        Secret caSecret = get(CA_SECRET);
        Pki.Pem ca = pem(caSecret, "tls.crt", "tls.key");
        boolean newCa = false;
        if (ca == null || !Pki.fresh(ca.certificate(), ca.certificate(), now, List.of())) {
            LOG.info((ca == null ? "making" : "renewing") + " the CA " + namespace + "/" + CA_SECRET);
            ca = Pki.newCa("kubevirt.io@" + now.getEpochSecond(), now, caValidity);
            write(caSecret, CA_SECRET, Map.of("tls.crt", ca.cert(), "tls.key", ca.key()), labels, annotations);
            newCa = true;
        }
        X509Certificate caCert = ca.certificate();
        String svc = "." + namespace + ".svc";

        Secret api = get(VIRT_API_SECRET);
        if (newCa || stale(api, "tls.crt", caCert, now, List.of()) || stale(api, "handler-client.crt", caCert, now, List.of())) {
            Pki.Pem serving = Pki.issue(ca, new Pki.LeafSpec("virt-api" + svc,
                    List.of("virt-api" + svc, "virt-api" + svc + ".cluster.local", "virt-api"), List.of(), true, false), now, certValidity);
            Pki.Pem client = Pki.issue(ca, new Pki.LeafSpec("virt-api", List.of(), List.of(), false, true), now, certValidity);
            write(api, VIRT_API_SECRET, Map.of("tls.crt", serving.cert(), "tls.key", serving.key(),
                    "handler-client.crt", client.cert(), "handler-client.key", client.key(), "handler-ca.crt", ca.cert()),
                    labels, annotations);
        }
        Secret handler = get(HANDLER_SECRET);
        if (newCa || stale(handler, "tls.crt", caCert, now, nodeAddresses)) {
            Pki.Pem serving = Pki.issue(ca, new Pki.LeafSpec("virt-handler", List.of("virt-handler"), nodeAddresses,
                    true, true), now, certValidity);
            write(handler, HANDLER_SECRET, Map.of("tls.crt", serving.cert(), "tls.key", serving.key(), "ca.crt", ca.cert()),
                    labels, annotations);
        }
        Secret operator = get(OPERATOR_SECRET);
        if (newCa || stale(operator, "tls.crt", caCert, now, List.of())) {
            Pki.Pem serving = Pki.issue(ca, new Pki.LeafSpec("kubevirt-operator-webhook" + svc,
                    List.of("kubevirt-operator-webhook" + svc, "kubevirt-operator-webhook" + svc + ".cluster.local"),
                    List.of(), true, false), now, certValidity);
            write(operator, OPERATOR_SECRET, Map.of("tls.crt", serving.cert(), "tls.key", serving.key(), "ca.crt", ca.cert()),
                    labels, annotations);
        }
        return ca.cert();
    }

    private boolean stale(Secret s, String certKey, X509Certificate ca, Instant now, List<String> ips) {
        String pem = decode(s, certKey);
        if (pem == null) {
            return true;
        }
        try {
            return !Pki.fresh(Pki.parseCertificate(pem), ca, now, ips);
        } catch (GeneralSecurityException e) {
            return true;
        }
    }

    /** A Secret of one of our names that the operator did not make: never overwritten. */
    static final class ForeignSecretException extends Exception {
        private static final long serialVersionUID = 1L;

        ForeignSecretException(String message) {
            super(message);
        }
    }

    private Secret get(String name) throws ForeignSecretException {
        Secret s = client.secrets().inNamespace(namespace).withName(name).get();
        Map<String, String> l = s == null ? null : s.getMetadata().getLabels();
        if (s != null && (l == null || !InstallStrategy.MANAGED_BY.equals(l.get(InstallStrategy.MANAGED_BY_LABEL)))) {
            throw new ForeignSecretException("Secret " + namespace + "/" + name + " exists and was not made by virt-operator");
        }
        return s;
    }

    private void write(Secret old, String name, Map<String, String> data, Map<String, String> labels,
                       Map<String, String> annotations) {
        Map<String, String> encoded = new LinkedHashMap<>();
        data.forEach((k, v) -> encoded.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.US_ASCII))));
        Secret s = new SecretBuilder().withNewMetadata().withName(name).withNamespace(namespace).withLabels(labels)
                .withAnnotations(annotations).endMetadata().withType("Opaque").withData(encoded).build();
        if (old == null) {
            client.secrets().inNamespace(namespace).resource(s).create();
        } else {
            // Guarded by the version read: a concurrent writer makes this fail (409) and the reconcile run again.
            s.getMetadata().setResourceVersion(old.getMetadata().getResourceVersion());
            client.secrets().inNamespace(namespace).resource(s).update();
        }
    }

    static String decode(Secret s, String key) {
        if (s == null || s.getData() == null || s.getData().get(key) == null) {
            return null;
        }
        return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.US_ASCII);
    }

    private static Pki.Pem pem(Secret s, String certKey, String keyKey) {
        String cert = decode(s, certKey);
        String key = decode(s, keyKey);
        return cert == null || key == null ? null : new Pki.Pem(cert, key);
    }
}
