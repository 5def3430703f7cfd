package io.qvirt.controller;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * core/v1 Events about VMs and VMIs, as KubeVirt's recorder writes them ({@code kubectl describe} shows them).
 * Best effort: an Event that cannot be written is logged, never fails a reconcile.
 */
final class Events {
    static final String NORMAL = "Normal";
    static final String WARNING = "Warning";
    private static final Logger LOG = Logger.getLogger(Events.class.getName());

    private final KubernetesClient client;
    private final Clock clock;

    Events(KubernetesClient client, Clock clock) {
        this.client = client;
        this.clock = clock;
    }

    void record(HasMetadata about, String type, String reason, String message) {
        String now = clock.instant().toString();
        String ns = about.getMetadata().getNamespace();
        try {
            client.v1().events().inNamespace(ns).resource(new EventBuilder()
                    .withNewMetadata()
                        .withName(about.getMetadata().getName() + "." + Long.toHexString(System.nanoTime()))
                        .withNamespace(ns)
                    .endMetadata()
                    .withNewInvolvedObject()
                        .withApiVersion(about.getApiVersion()).withKind(about.getKind())
                        .withName(about.getMetadata().getName()).withNamespace(ns)
                        .withUid(about.getMetadata().getUid())
                        .withResourceVersion(about.getMetadata().getResourceVersion())
                    .endInvolvedObject()
                    .withType(type).withReason(reason).withMessage(message)
                    .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
                    .withNewSource().withComponent("virt-controller").endSource()
                    .build()).create();
        } catch (KubernetesClientException e) {
            LOG.log(Level.FINE, "event " + reason + " on " + Objects2.key(about) + " not recorded", e);
        }
    }
}
