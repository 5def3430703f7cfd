package io.qvirt.apiserver;

import io.fabric8.kubernetes.api.model.authorization.v1.ResourceAttributesBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.Map;

/** Asks the API server whether a user may do something: a {@code SubjectAccessReview} (authorization.k8s.io/v1). */
public interface AccessReviewer {
    /** The decision: allowed, or the reason why not. */
    record Decision(boolean allowed, String reason) {
    }

    /** What is asked: KubeVirt's resource attributes for a subresource request. */
    record Request(String user, List<String> groups, Map<String, List<String>> extra, String namespace, String verb,
                   String group, String version, String resource, String subresource, String name) {
    }

    Decision review(Request r);

    /** Through the API server with fabric8. */
    static AccessReviewer of(KubernetesClient client) {
        return r -> {
            SubjectAccessReview sar = new SubjectAccessReviewBuilder().withNewSpec()
                    .withUser(r.user()).withGroups(r.groups()).withExtra(r.extra())
                    .withResourceAttributes(new ResourceAttributesBuilder().withNamespace(r.namespace()).withVerb(r.verb())
                            .withGroup(r.group()).withVersion(r.version()).withResource(r.resource())
                            .withSubresource(r.subresource()).withName(r.name()).build())
                    .endSpec().build();
            SubjectAccessReview out = client.authorization().v1().subjectAccessReview().create(sar);
            boolean allowed = out.getStatus() != null && Boolean.TRUE.equals(out.getStatus().getAllowed());
            return new Decision(allowed, out.getStatus() == null ? "" : out.getStatus().getReason());
        };
    }
}
