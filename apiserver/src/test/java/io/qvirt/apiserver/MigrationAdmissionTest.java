package io.qvirt.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.model.Condition;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The migration webhooks ({@code /migration-validate-create}, {@code /migration-validate-update}) over HTTPS with
 * AdmissionReview v1 bodies, the VMIs and migrations they read in fabric8's CRUD mock API server: KubeVirt's
 * migration admitters' rules and words.
 */
class MigrationAdmissionTest {
    static final String CREATE = "/migration-validate-create";
    static final String UPDATE = "/migration-validate-update";

    @TempDir
    static Path dir;
    static Rig rig;

    @BeforeAll
    static void up() throws Exception {
        rig = new Rig(dir);
    }

    @AfterAll
    static void down() {
        if (rig != null) {
            rig.close();
        }
    }

    static ObjectNode migration(String name, String vmiName, String phase, String selector) {
        ObjectNode m = JsonNodeFactory.instance.objectNode();
        m.put("apiVersion", "kubevirt.io/v1");
        m.put("kind", "VirtualMachineInstanceMigration");
        ObjectNode meta = m.putObject("metadata").put("name", name).put("namespace", "default");
        if (selector != null) {
            meta.putObject("labels").put(Admission.MIGRATION_SELECTOR_LABEL, selector);
        }
        ObjectNode spec = m.putObject("spec");
        if (vmiName != null) {
            spec.put("vmiName", vmiName);
        }
        if (phase != null) {
            m.putObject("status").put("phase", phase);
        }
        return m;
    }

    static ObjectNode review(String operation, JsonNode object, JsonNode old) {
        ObjectNode r = AdmissionTest.review("VirtualMachineInstanceMigration", operation, object, old, "alice");
        ((ObjectNode) r.path("request").path("resource")).put("resource", "virtualmachineinstancemigrations");
        return r;
    }

    /** The webhook's response to {@code review}, as kube-apiserver posts it (no client certificate). */
    static JsonNode response(String path, ObjectNode review) throws Exception {
        var r = rig.send(rig.http(null, null), "POST", path, review.toString(), null);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode out = KubevirtJson.json().readTree(r.body());
        assertEquals("AdmissionReview", out.path("kind").asText());
        assertEquals(review.path("request").path("uid").asText(), out.path("response").path("uid").asText());
        return out.path("response");
    }

    static JsonNode create(ObjectNode migration) throws Exception {
        return response(CREATE, review("CREATE", migration, null));
    }

    static void assertError(JsonNode resp, String message) {
        assertFalse(resp.path("allowed").asBoolean(), resp.toString());
        assertEquals(400, resp.path("status").path("code").asInt(), resp.toString());
        assertEquals(message, resp.path("status").path("message").asText());
    }

    static void assertInvalid(JsonNode resp, String type, String field, String message) {
        assertFalse(resp.path("allowed").asBoolean(), resp.toString());
        JsonNode st = resp.path("status");
        assertEquals(422, st.path("code").asInt(), resp.toString());
        assertEquals("Invalid", st.path("reason").asText());
        assertEquals(message, st.path("message").asText());
        JsonNode cause = st.path("details").path("causes").path(0);
        assertEquals(type, cause.path("type").asText());
        assertEquals(message, cause.path("message").asText());
        assertEquals(field, cause.has("field") ? cause.path("field").asText() : null);
    }

    static Condition condition(String type, String status, String reason, String message) {
        Condition c = new Condition();
        c.setType(type);
        c.setStatus(status);
        c.setReason(reason);
        c.setMessage(message);
        return c;
    }

    static String stored(ObjectNode migration) {
        GenericKubernetesResource g = KubevirtJson.json().convertValue(migration, GenericKubernetesResource.class);
        return rig.client.genericKubernetesResources(VmSubresources.MIGRATIONS).inNamespace("default").resource(g).create()
                .getMetadata().getUid();
    }

    @Test
    void createNeedsAVmiThatCanMigrateAndNoOtherMigrationInFlight() throws Exception {
        assertInvalid(create(migration("m0", null, null, null)), "FieldValueRequired", "spec.vmiName", "vmiName is missing");
        assertError(create(migration("m1", "nosuchvmi", null, null)), "the VMI \"default/nosuchvmi\" does not exist");

        SubresourcesTest.vmiStandalone(rig, "mig-failed", "Failed");
        assertError(create(migration("m2", "mig-failed", null, null)), "Cannot migrate VMI in finalized state.");
        SubresourcesTest.vmiStandalone(rig, "mig-pinned", "Running",
                condition("LiveMigratable", "False", "DisksNotLiveMigratable", "cannot migrate VMI with non-shared disks"));
        assertError(create(migration("m3", "mig-pinned", null, null)),
                "Cannot migrate VMI, Reason: DisksNotLiveMigratable, Message: cannot migrate VMI with non-shared disks");

        SubresourcesTest.vmiStandalone(rig, "mig-ok", "Running", condition("LiveMigratable", "True", "", ""));
        assertTrue(create(migration("m4", "mig-ok", null, null)).path("allowed").asBoolean());
        // one for another VMI, and finished ones, are no conflict; one pending for this VMI is
        stored(migration("other", "mig-failed", null, null));
        stored(migration("done", "mig-ok", "Succeeded", null));
        stored(migration("failed", "mig-ok", "Failed", null));
        assertTrue(create(migration("m5", "mig-ok", null, null)).path("allowed").asBoolean());
        String uid = stored(migration("pending", "mig-ok", "Scheduling", null));
        assertError(create(migration("m6", "mig-ok", null, null)),
                "in-flight migration detected. Active migration job (" + uid + ") is currently already in progress for VMI mig-ok.");
    }

    @Test
    void aMigrationsSpecIsImmutableAndItsSelectorLabelStaysWhileInFlight() throws Exception {
        ObjectNode old = migration("u1", "vmi-a", "Running", "vmi-a");
        ObjectNode now = old.deepCopy();
        ((ObjectNode) now.path("status")).put("phase", "TargetReady");
        assertTrue(response(UPDATE, review("UPDATE", now, old)).path("allowed").asBoolean(), "status changes");

        ObjectNode spec = old.deepCopy();
        ((ObjectNode) spec.path("spec")).put("vmiName", "vmi-b");
        assertInvalid(response(UPDATE, review("UPDATE", spec, old)), "FieldValueNotSupported", null,
                "update of Migration object's spec is restricted");

        ObjectNode relabelled = old.deepCopy();
        ((ObjectNode) relabelled.path("metadata").path("labels")).put(Admission.MIGRATION_SELECTOR_LABEL, "vmi-b");
        assertInvalid(response(UPDATE, review("UPDATE", relabelled, old)), "FieldValueNotSupported", null,
                "selector label can't be modified on an in-flight migration");
        ObjectNode unlabelled = old.deepCopy();
        ((ObjectNode) unlabelled.path("metadata")).remove("labels");
        assertInvalid(response(UPDATE, review("UPDATE", unlabelled, old)), "FieldValueNotSupported", null,
                "selector label can't be removed from an in-flight migration");
        ((ObjectNode) relabelled.path("status")).put("phase", "Succeeded");
        assertTrue(response(UPDATE, review("UPDATE", relabelled, old)).path("allowed").asBoolean(),
                "a finished migration's label may change");
    }

    @Test
    void aReviewOfAnotherResourceOrAnUndecodableMigrationIsRefused() throws Exception {
        ObjectNode vm = migration("x", "vmi-a", null, null);
        ObjectNode r = AdmissionTest.review("VirtualMachine", "CREATE", vm, null, "alice");
        assertError(response(CREATE, r), "expect resource to be 'virtualmachineinstancemigrations'");
        ObjectNode bad = migration("x", null, null, null);
        ((ObjectNode) bad.path("spec")).set("vmiName", JsonNodeFactory.instance.numberNode(7));
        assertError(create(bad), "could not decode the VirtualMachineInstanceMigration: spec.vmiName must be a string");
        assertEquals(400, rig.send(rig.http(null, null), "POST", UPDATE, "{\"kind\":\"AdmissionReview\"}", null).statusCode());
    }

    // ---- the eviction webhook ----

    static void launcherPod(String name, String vmi, String phase) {
        rig.client.pods().inNamespace("default").resource(new io.fabric8.kubernetes.api.model.PodBuilder()
                .withNewMetadata().withName(name).withNamespace("default").addToLabels("kubevirt.io", "virt-launcher")
                .addToAnnotations(PodEvictionAdmitter.DOMAIN_ANNOTATION, vmi).endMetadata()
                .withNewSpec().withNodeName("node-1").endSpec().withNewStatus().withPhase(phase).endStatus().build()).create();
    }

    static void strategy(String vmi, String strategy) {
        rig.client.resources(io.qvirt.api.VirtualMachineInstance.class).inNamespace("default").withName(vmi)
                .edit(v -> {
                    v.getSpec().setEvictionStrategy(strategy);
                    return v;
                });
    }

    static JsonNode policy(String specYaml) throws Exception {
        JsonNode p = KubevirtJson.yaml().readTree("apiVersion: migrations.kubevirt.io/v1alpha1\nkind: MigrationPolicy\n"
                + "metadata: {name: p}\n" + specYaml);
        ObjectNode r = AdmissionTest.review("MigrationPolicy", "CREATE", p, null, "admin");
        ObjectNode q = (ObjectNode) r.path("request");
        q.putObject("kind").put("group", "migrations.kubevirt.io").put("version", "v1alpha1").put("kind", "MigrationPolicy");
        q.putObject("resource").put("group", "migrations.kubevirt.io").put("version", "v1alpha1")
                .put("resource", "migrationpolicies");
        q.remove("namespace");
        return response(MigrationPolicyAdmitter.PATH, r);
    }

    @Test
    void aMigrationPolicyTheControllerCannotApplyIsRefusedByField() throws Exception {
        JsonNode ok = policy("spec: {selectors: {virtualMachineInstanceSelector: {tier: gold}}, bandwidthPerMigration: 64Mi, "
                + "completionTimeoutPerGiB: 10, allowPostCopy: true, allowAutoConverge: false}");
        assertTrue(ok.path("allowed").asBoolean(), ok.toString());
        JsonNode bad = policy("spec: {selectors: {}, completionTimeoutPerGiB: -1, maxDowntimeMs: 300}");
        assertFalse(bad.path("allowed").asBoolean(), bad.toString());
        assertEquals(422, bad.path("status").path("code").asInt());
        assertEquals("spec.completionTimeoutPerGiB: must not be negative, spec.maxDowntimeMs: is not supported by qvirt: "
                + "a policy may set allowAutoConverge, allowPostCopy, allowWorkloadDisruption, bandwidthPerMigration and "
                + "completionTimeoutPerGiB", bad.path("status").path("message").asText());
        JsonNode bw = policy("spec: {selectors: {}, bandwidthPerMigration: fast}");
        assertEquals("spec.bandwidthPerMigration: 'fast' is not allowed: a quantity of bytes per second such as 64Mi, "
                + "0 for unlimited", bw.path("status").path("message").asText(), bw.toString());
        JsonNode two = policy("spec: {selectors: {virtualMachineInstanceSelector: {tier: null}}, "
                + "completionTimeoutPerGiB: 4000000000, bandwidthPerMigration: -1Mi}");
        assertEquals("spec.selectors.virtualMachineInstanceSelector.tier: a label value is required, "
                + "spec.completionTimeoutPerGiB: must be at most 2147483647, "
                + "spec.bandwidthPerMigration: '-1Mi' is not allowed: not negative",
                two.path("status").path("message").asText(), "every problem, by field");
        JsonNode none = policy("spec: {allowPostCopy: true}");
        assertEquals("spec.selectors", none.path("status").path("details").path("causes").path(0).path("field").asText(),
                none.toString());
    }

    static JsonNode evict(String pod, boolean dryRun) throws Exception {
        ObjectNode ev = JsonNodeFactory.instance.objectNode();
        ev.put("apiVersion", "policy/v1");
        ev.put("kind", "Eviction");
        ev.putObject("metadata").put("name", pod).put("namespace", "default");
        if (dryRun) {
            ev.putObject("deleteOptions").putArray("dryRun").add("All");
        }
        ObjectNode r = AdmissionTest.review("Eviction", "CREATE", ev, null, "system:serviceaccount:kube-system:drain");
        ObjectNode q = (ObjectNode) r.path("request");
        q.putObject("kind").put("group", "policy").put("version", "v1").put("kind", "Eviction");
        q.putObject("resource").put("group", "").put("version", "v1").put("resource", "pods");
        q.put("subResource", "eviction");
        q.put("name", pod);
        return response(PodEvictionAdmitter.PATH, r);
    }

    static String evacuation(String vmi) {
        var st = rig.client.resources(io.qvirt.api.VirtualMachineInstance.class).inNamespace("default").withName(vmi).get().getStatus();
        return st.getEvacuationNodeName();
    }

    static void assertTooMany(JsonNode resp, String message) {
        assertFalse(resp.path("allowed").asBoolean(), resp.toString());
        assertEquals(429, resp.path("status").path("code").asInt(), resp.toString());
        assertEquals(message, resp.path("status").path("message").asText());
    }

    @Test
    void aDrainsEvictionOfALauncherPodWhoseVmiLiveMigratesIsRefusedAndTheVmiMarked() throws Exception {
        Condition yes = condition("LiveMigratable", "True", "", "");
        SubresourcesTest.vmiStandalone(rig, "ev-mig", "Running", yes);
        strategy("ev-mig", "LiveMigrate");
        launcherPod("virt-launcher-ev-mig-x1", "ev-mig", "Running");
        assertTooMany(evict("virt-launcher-ev-mig-x1", true), "Eviction triggered evacuation of VMI \"default/ev-mig\"");
        assertEquals(null, evacuation("ev-mig"), "a dry run marks nothing");
        assertTooMany(evict("virt-launcher-ev-mig-x1", false), "Eviction triggered evacuation of VMI \"default/ev-mig\"");
        assertEquals("node-1", evacuation("ev-mig"), "marked to leave its node");
        assertTooMany(evict("virt-launcher-ev-mig-x1", false),
                "Evacuation in progress: Eviction triggered evacuation of VMI \"default/ev-mig\"");

        SubresourcesTest.vmiStandalone(rig, "ev-pinned", "Running",
                condition("LiveMigratable", "False", "DisksNotLiveMigratable", "cannot migrate VMI with non-shared disks"));
        strategy("ev-pinned", "LiveMigrate");
        launcherPod("virt-launcher-ev-pinned-x1", "ev-pinned", "Running");
        assertTooMany(evict("virt-launcher-ev-pinned-x1", false),
                "VMI ev-pinned is configured with an eviction strategy but is not live-migratable");
        assertEquals(null, evacuation("ev-pinned"));

        SubresourcesTest.vmiStandalone(rig, "ev-maybe", "Running",
                condition("LiveMigratable", "False", "DisksNotLiveMigratable", "cannot migrate VMI with non-shared disks"));
        strategy("ev-maybe", "LiveMigrateIfPossible");
        launcherPod("virt-launcher-ev-maybe-x1", "ev-maybe", "Running");
        assertTrue(evict("virt-launcher-ev-maybe-x1", false).path("allowed").asBoolean(), "not migratable: evicted");

        SubresourcesTest.vmiStandalone(rig, "ev-none", "Running", yes);
        launcherPod("virt-launcher-ev-none-x1", "ev-none", "Running");
        assertTrue(evict("virt-launcher-ev-none-x1", false).path("allowed").asBoolean(), "no eviction strategy: evicted");
        launcherPod("virt-launcher-ev-done-x1", "ev-mig", "Succeeded");
        assertTrue(evict("virt-launcher-ev-done-x1", false).path("allowed").asBoolean(), "a finished launcher pod goes");
        assertTrue(evict("no-such-pod", false).path("allowed").asBoolean());
        assertEquals(null, evacuation("ev-none"));
    }
}
