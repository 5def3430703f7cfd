package io.qvirt.operator;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionConditionBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * FAKE: plays kube-apiserver's apiextensions controller, which fabric8's mock does not run: it marks a CRD
 * {@code Established} and {@code NamesAccepted} (status.acceptedNames = spec.names, storedVersions = the storage
 * version), as the real one does within moments of a CRD's creation. Either once ({@link #establishAll}) or, once
 * {@link #start}ed, for every CRD as it is created, until closed.
 */
final class FakeCrdEstablisher implements AutoCloseable {
    private final KubernetesClient client;
    private SharedIndexInformer<CustomResourceDefinition> informer;

    FakeCrdEstablisher(KubernetesClient client) {
        this.client = client;
    }

    /** Establishes every CRD there now; returns how many it marked. */
    int establishAll() {
        int n = 0;
        for (CustomResourceDefinition crd : client.apiextensions().v1().customResourceDefinitions().list().getItems()) {
            if (establish(crd)) {
                n++;
            }
        }
        return n;
    }

    /** From now on establishes each CRD as it appears (and any there already). */
    FakeCrdEstablisher start() {
        informer = client.apiextensions().v1().customResourceDefinitions().inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(CustomResourceDefinition crd) {
                establish(crd);
            }

            @Override
            public void onUpdate(CustomResourceDefinition oldCrd, CustomResourceDefinition crd) {
                establish(crd);
            }

            @Override
            public void onDelete(CustomResourceDefinition crd, boolean deletedFinalStateUnknown) {
            }
        });
        return this;
    }

    static boolean established(CustomResourceDefinition crd) {
        return crd.getStatus() != null && crd.getStatus().getConditions() != null && crd.getStatus().getConditions().stream()
                .anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private boolean establish(CustomResourceDefinition crd) {
        if (established(crd) || crd.getMetadata().getDeletionTimestamp() != null) {
            return false;
        }
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        List<String> stored = crd.getSpec().getVersions().stream().filter(v -> Boolean.TRUE.equals(v.getStorage()))
                .map(v -> v.getName()).toList();
        crd.setStatus(new CustomResourceDefinitionStatusBuilder().withAcceptedNames(crd.getSpec().getNames())
                .withStoredVersions(stored)
                .withConditions(new CustomResourceDefinitionConditionBuilder().withType("NamesAccepted").withStatus("True")
                                .withReason("NoConflicts").withMessage("no conflicts found").withLastTransitionTime(now).build(),
                        new CustomResourceDefinitionConditionBuilder().withType("Established").withStatus("True")
                                .withReason("InitialNamesAccepted").withMessage("the initial names have been accepted")
                                .withLastTransitionTime(now).build())
                .build());
        try {
            client.apiextensions().v1().customResourceDefinitions().resource(crd).updateStatus();
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409 || e.getCode() == 404) {
                return false; // changed or gone meanwhile: the informer's next event brings it again
            }
            throw e;
        }
    }

    @Override
    public void close() {
        if (informer != null) {
            informer.close();
        }
    }
}
