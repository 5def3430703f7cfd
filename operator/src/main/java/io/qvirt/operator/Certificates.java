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
 *
 * <p>Every party trusts the CA bundle (every caBundle, virt-api's {@code handler-ca.crt}, the handlers' and the
 * operator's {@code ca.crt}), never a single CA, so the CA rotates without a moment where two parties disagree
 * (KubeVirt's overlapping bundle). With a fifth of the CA's life left, a next CA is made and only added to the bundle
 * ({@code next.crt}); once every party has had {@link #overlap} to load the bundle, it becomes the signing CA and
 * every leaf certificate is issued again under it, while the old CA stays in the bundle ({@code previous.crt}) for
 * another {@code overlap}, until every party has loaded its new leaf; then it is dropped. A mounted Secret reaches
 * a pod's files within the kubelet's sync period (about a minute) and the components re-read them every 30 s or
 * sooner, so an overlap of a day leaves a wide margin. Only a CA found expired or unreadable is replaced at once (no
 * overlap is possible with a CA nobody may trust any more).
 */
final class Certificates {
    private static final Logger LOG = Logger.getLogger(Certificates.class.getName());
    static final String CA_SECRET = "kubevirt-ca";
    static final String VIRT_API_SECRET = "kubevirt-virt-api-certs";
    static final String HANDLER_SECRET = "kubevirt-virt-handler-certs";
    static final String OPERATOR_SECRET = "kubevirt-operator-certs";
    static final List<String> SECRETS = List.of(CA_SECRET, VIRT_API_SECRET, HANDLER_SECRET, OPERATOR_SECRET);
    /** The CA Secret's key holding every CA trusted now, PEM: what every caBundle says. */
    static final String BUNDLE_KEY = "ca-bundle.crt";

    private final KubernetesClient client;
    private final String namespace;
    private final Duration caValidity;
    private final Duration certValidity;
    private final Duration overlap;

    /**
     * @param namespace    the install namespace (Services' DNS names are {@code NAME.NAMESPACE.svc})
     * @param caValidity   the CA's lifetime; the bundle overlap is a day, or a twentieth of this if shorter (so a
     *                     next CA made with a fifth of the life left always takes over before the old one expires)
     * @param certValidity each leaf certificate's lifetime
     */
    Certificates(KubernetesClient client, String namespace, Duration caValidity, Duration certValidity) {
        this.client = client;
        this.namespace = namespace;
        this.caValidity = caValidity;
        this.certValidity = certValidity;
        Duration twentieth = caValidity.dividedBy(20);
        this.overlap = twentieth.compareTo(Duration.ofDays(1)) < 0 ? twentieth : Duration.ofDays(1);
    }

    /** How long a CA is trusted before it signs, and trusted after it stopped signing. */
    Duration overlap() {
        return overlap;
    }

    /**
     * What the CA Secret holds: the signing CA, the next one (trusted, not signing yet) and since when, the previous
     * one (trusted, no longer signing) and until when.
     */
    private record CaState(Pki.Pem active, Pki.Pem next, Instant nextSince, String previous, Instant previousUntil) {
        /** Every CA trusted now: the signing one first. */
        String bundle() {
            return active.cert() + (next == null ? "" : next.cert()) + (previous == null ? "" : previous);
        }

        Map<String, String> data() {
            Map<String, String> d = new LinkedHashMap<>();
            d.put("tls.crt", active.cert());
            d.put("tls.key", active.key());
            if (next != null) {
                d.put("next.crt", next.cert());
                d.put("next.key", next.key());
                d.put("next-since", nextSince.toString());
            }
            if (previous != null) {
                d.put("previous.crt", previous);
                d.put("previous-until", previousUntil.toString());
            }
            d.put(BUNDLE_KEY, bundle());
            return d;
        }
    }

    /**
     * Makes or renews what needs it; {@code labels} and {@code annotations} mark each Secret as the operator's.
     *
     * @param nodeAddresses every Node's InternalIP, for the handlers' serving certificate
     * @return the CA bundle, PEM (every caBundle): the signing CA, and during a rotation the next or previous one
     * @throws ForeignSecretException if one of the Secrets exists without the operator's label (left alone)
     */
    String ensure(List<String> nodeAddresses, Map<String, String> labels, Map<String, String> annotations, Instant now)
            throws GeneralSecurityException, ForeignSecretException {
        Secret caSecret = get(CA_SECRET);
        CaState read = readCa(caSecret, now);
        CaState state = rotate(read, now);
        if (!state.data().equals(decodeAll(caSecret))) {
            write(caSecret, CA_SECRET, state.data(), labels, annotations);
        }
        Pki.Pem ca = state.active();
        X509Certificate caCert = ca.certificate();
        String bundle = state.bundle();
        String svc = "." + namespace + ".svc";

        // A leaf is issued again when it no longer verifies against the signing CA (a new one took over), nears its
        // end, or its Secret's trusted CAs are not the bundle (a rotation began or ended).
        Secret api = get(VIRT_API_SECRET);
        if (stale(api, "tls.crt", caCert, now, List.of()) || stale(api, "handler-client.crt", caCert, now, List.of())
                || !bundle.equals(decode(api, "handler-ca.crt"))) {
            Pki.Pem serving = Pki.issue(ca, new Pki.LeafSpec("virt-api" + svc,
                    List.of("virt-api" + svc, "virt-api" + svc + ".cluster.local", "virt-api"), List.of(), true, false), now, certValidity);
            Pki.Pem client = Pki.issue(ca, new Pki.LeafSpec("virt-api", List.of(), List.of(), false, true), now, certValidity);
            write(api, VIRT_API_SECRET, Map.of("tls.crt", serving.cert(), "tls.key", serving.key(),
                    "handler-client.crt", client.cert(), "handler-client.key", client.key(), "handler-ca.crt", bundle),
                    labels, annotations);
        }
        Secret handler = get(HANDLER_SECRET);
        if (stale(handler, "tls.crt", caCert, now, nodeAddresses) || !bundle.equals(decode(handler, "ca.crt"))) {
            Pki.Pem serving = Pki.issue(ca, new Pki.LeafSpec("virt-handler", List.of("virt-handler"), nodeAddresses,
                    true, true), now, certValidity);
            write(handler, HANDLER_SECRET, Map.of("tls.crt", serving.cert(), "tls.key", serving.key(), "ca.crt", bundle),
                    labels, annotations);
        }
        Secret operator = get(OPERATOR_SECRET);
        if (stale(operator, "tls.crt", caCert, now, List.of()) || !bundle.equals(decode(operator, "ca.crt"))) {
            Pki.Pem serving = Pki.issue(ca, new Pki.LeafSpec("kubevirt-operator-webhook" + svc,
                    List.of("kubevirt-operator-webhook" + svc, "kubevirt-operator-webhook" + svc + ".cluster.local"),
                    List.of(), true, false), now, certValidity);
            write(operator, OPERATOR_SECRET, Map.of("tls.crt", serving.cert(), "tls.key", serving.key(), "ca.crt", bundle),
                    labels, annotations);
        }
        return bundle;
    }

    /** The CA Secret's state, or null if it holds no usable CA. */
    private static CaState readCa(Secret s, Instant now) {
        Pki.Pem active = pem(s, "tls.crt", "tls.key");
        Pki.Pem next = pem(s, "next.crt", "next.key");
        Instant nextSince = instant(decode(s, "next-since"));
        if (next != null && (nextSince == null || !usable(next.cert(), now))) {
            next = null;
            nextSince = null;
        }
        if (active == null || !usable(active.cert(), now)) {
            // Expired (the operator was away for long): the next CA, trusted already, signs at once, if there is one.
            return next == null ? null : new CaState(next, null, null, null, null);
        }
        String previous = decode(s, "previous.crt");
        Instant previousUntil = instant(decode(s, "previous-until"));
        if (previous != null && (previousUntil == null || !usable(previous, now))) {
            previous = null;
            previousUntil = null;
        }
        return new CaState(active, next, nextSince, previous, previousUntil);
    }

    /** One step of the CA's life at {@code now}: make, add a next one, let it take over, drop the previous one. */
    private CaState rotate(CaState s, Instant now) throws GeneralSecurityException {
        if (s == null) {
            LOG.info("making the CA " + namespace + "/" + CA_SECRET);
            return new CaState(Pki.newCa("kubevirt.io@" + now.getEpochSecond(), now, caValidity), null, null, null, null);
        }
        String previous = s.previous();
        Instant previousUntil = s.previousUntil();
        if (previous != null && !now.isBefore(previousUntil)) {
            LOG.info("CA " + namespace + "/" + CA_SECRET + ": the previous CA leaves the bundle");
            previous = null;
            previousUntil = null;
        }
        if (s.next() != null && !now.isBefore(s.nextSince().plus(overlap))) {
            LOG.info("CA " + namespace + "/" + CA_SECRET + ": the next CA takes over signing; the old one stays trusted for "
                    + overlap);
            return new CaState(s.next(), null, null, s.active().cert(), now.plus(overlap));
        }
        if (s.next() == null && !Pki.fresh(s.active().certificate(), s.active().certificate(), now, List.of())) {
            LOG.info("CA " + namespace + "/" + CA_SECRET + ": a fifth of its life left; a next CA joins the bundle, signing in "
                    + overlap);
            return new CaState(s.active(), Pki.newCa("kubevirt.io@" + now.getEpochSecond(), now, caValidity), now,
                    previous, previousUntil);
        }
        return new CaState(s.active(), s.next(), s.nextSince(), previous, previousUntil);
    }

    /** Whether {@code pem} is a self-signed CA certificate valid at {@code now}. */
    private static boolean usable(String pem, Instant now) {
        try {
            X509Certificate c = Pki.parseCertificate(pem);
            c.verify(c.getPublicKey());
            c.checkValidity(java.util.Date.from(now));
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static Instant instant(String text) {
        try {
            return text == null ? null : Instant.parse(text.strip());
        } catch (java.time.format.DateTimeParseException e) {
            return null;
        }
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

    /** Every key of {@code s}, decoded; empty for none. */
    private static Map<String, String> decodeAll(Secret s) {
        Map<String, String> out = new LinkedHashMap<>();
        if (s != null && s.getData() != null) {
            s.getData().keySet().forEach(k -> out.put(k, decode(s, k)));
        }
        return out;
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
