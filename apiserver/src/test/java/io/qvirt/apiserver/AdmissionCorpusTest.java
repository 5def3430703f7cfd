package io.qvirt.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.LoadedManifest;
import io.qvirt.api.ManifestException;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.instancetype.InstancetypeResource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The KubeVirt compatibility corpus ({@code ../shared/kubevirt-corpus/}, both INDEX files) through virt-api's
 * admission webhooks as the API server calls them (AdmissionReview over HTTPS, fabric8's mock API server holding
 * the instancetypes and preferences a file's {@code why} says it needs: qvirt's common ones, those the guide
 * and the blog post define, and KubeVirt's example ones: clarge, csmall, cluster-csmall, virtio, windows). Prints the tally; the assertions are in {@link #everyCorpusFileGetsItsVerdict}.
 */
class AdmissionCorpusTest {
    private static final Pattern PATH = Pattern.compile("\\b(?:spec|metadata)(?:\\.[A-Za-z0-9_]+|\\[[0-9]+\\])+");

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

    /**
     * KubeVirt's examples INDEX says "no" for what its limited launcher lacked and qvirt has (as the launcher's
     * CorpusVerdictTest); the three hook sidecar examples are refused, as KubeVirt refuses them without its Sidecar
     * gate and qvirt (no libvirt) even with it.
     */
    static final Set<String> EXAMPLE_RUNS_NOW = Set.of("vmi-alpine-efi.yaml", "vmi-secureboot.yaml",
            "vm-alpine-multipvc.yaml", "vmi-pvc.yaml");

    record Row(String key, Path file, String verdict, String why) {
    }

    static List<Row> rows() throws Exception {
        List<Row> rows = new ArrayList<>();
        for (io.qvirt.testdata.KubevirtCorpus.Entry e : io.qvirt.testdata.KubevirtCorpus.entries("kubevirt-examples")) {
            String[] c = e.columns();
            boolean run = ("yes".equals(c[7]) || EXAMPLE_RUNS_NOW.contains(c[0])) && !c[0].contains("sidecar-hook");
            rows.add(new Row(e.key(), e.file(), run ? "run" : "refuse", c[8]));
        }
        for (io.qvirt.testdata.KubevirtCorpus.Entry e : io.qvirt.testdata.KubevirtCorpus.entries("others")) {
            rows.add(new Row(e.key(), e.file(), e.columns()[4], e.columns()[5]));
        }
        return rows;
    }

    /** The instancetypes and preferences the corpus needs, created in the mock API server. */
    static void createInstancetypes() throws Exception {
        List<LoadedManifest> docs = new ArrayList<>(ManifestLoader.load(
                io.qvirt.testdata.TestGuest.projectRoot().resolve("manifests/instancetypes/common-instancetypes.yaml")));
        docs.addAll(ManifestLoader.load(io.qvirt.testdata.KubevirtCorpus.needs()));
        for (LoadedManifest d : docs) {
            InstancetypeResource r = d.instancetypeResource().orElseThrow();
            GenericKubernetesResource g = Serialization.unmarshal(KubevirtJson.toJson(d.resource()),
                    GenericKubernetesResource.class);
            var ops = rig.client.genericKubernetesResources(new io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext
                    .Builder().withGroup(InstancetypeResource.GROUP).withVersion("v1beta1").withKind(r.kind())
                    .withPlural(r.plural()).withNamespaced(r.namespaced()).build());
            (r.namespaced() ? ops.inNamespace("default") : ops).resource(g).create();
        }
    }

    /**
     * A refusal names a path: for {@code others/}, one {@code why} names (the same, or one extending the other;
     * what follows "If fixed"/"Once fixed" does not count); KubeVirt's examples name none in their INDEX.
     */
    static boolean named(Set<String> paths, Row row) {
        if (paths.isEmpty()) {
            return false;
        }
        if (!row.key().startsWith("others/")) {
            return true;
        }
        Matcher m = PATH.matcher(row.why().split("If fixed|Once fixed")[0]);
        while (m.find()) {
            String want = m.group();
            for (String p : paths) {
                if (p.startsWith(want) || want.startsWith(p)) {
                    return true;
                }
            }
        }
        return false;
    }

    @Test
    void everyCorpusFileGetsItsVerdict() throws Exception {
        Path corpus = io.qvirt.testdata.KubevirtCorpus.dir();
        assumeTrue(Files.isDirectory(corpus), "no corpus at " + corpus);
        createInstancetypes();
        // KubeVirt's vmi-host-disk.yaml needs the HostDisk gate on a cluster, as on KubeVirt: the admin turns it on.
        rig.gates = io.qvirt.api.FeatureGates.kubevirtDefaults().with(io.qvirt.api.FeatureGates.HOST_DISK);
        Map<String, int[]> tally = new TreeMap<>();
        List<String> shortOf = new ArrayList<>();
        for (Row row : rows()) {
            int[] t = tally.computeIfAbsent(row.verdict(), v -> new int[2]);
            t[0]++;
            String outcome;
            Set<String> paths = new LinkedHashSet<>();
            List<LoadedManifest> docs;
            try {
                docs = ManifestLoader.load(row.file());
            } catch (ManifestException e) {
                // The API server (its schema, its decoder) refuses such a file before any webhook sees it.
                docs = null;
                Matcher m = PATH.matcher(e.getMessage());
                while (m.find()) {
                    paths.add(m.group());
                }
            }
            boolean allowed = false;
            if (docs != null) {
                LoadedManifest doc = docs.stream().filter(d -> d.instancetypeResource().isEmpty()).findFirst().orElseThrow();
                String kind = doc.isVirtualMachine() ? "VirtualMachine" : "VirtualMachineInstance";
                String path = doc.isVirtualMachine() ? "/virtualmachines-validate" : "/virtualmachineinstances-validate-create";
                var http = rig.send(rig.http(null, null), "POST", path, AdmissionTest.review(kind, "CREATE",
                        KubevirtJson.toTree(doc.resource()), null, "alice").toString(), null);
                assertEquals(200, http.statusCode(), row.key() + ": " + http.body());
                JsonNode resp = KubevirtJson.json().readTree(http.body()).path("response");
                allowed = resp.path("allowed").asBoolean();
                String said = resp.path("status").path("message").asText("") + resp.path("warnings").toString();
                // Quoted user text may say anything; qvirt's own words must not be a library's.
                if (io.qvirt.testdata.KubevirtCorpus.LEAK.matcher(said.replaceAll("\"[^\"\n]*\"|'[^'\n]*'", "''")).find()) {
                    shortOf.add(row.key() + ": a library's or the JVM's text in the answer: " + said);
                }
                for (JsonNode c : resp.path("status").path("details").path("causes")) {
                    paths.add(c.path("field").asText());
                }
            }
            boolean met = "run".equals(row.verdict()) ? allowed : !allowed && named(paths, row);
            outcome = allowed ? "admitted" : "refused " + paths;
            if (met) {
                t[1]++;
            } else {
                shortOf.add(row.key() + " (" + row.verdict() + "): " + outcome);
            }
        }
        StringBuilder sb = new StringBuilder("corpus verdicts through virt-api's admission webhooks:\n");
        tally.forEach((v, t) -> sb.append("  ").append(v).append(": ").append(t[1]).append(" of ").append(t[0]).append('\n'));
        shortOf.forEach(s -> sb.append("  short: ").append(s).append('\n'));
        System.out.print(sb);
        assertTrue(tally.values().stream().mapToInt(t -> t[0]).sum() >= 70, sb.toString());
        assertEquals(List.of(), shortOf, sb.toString());
    }
}
