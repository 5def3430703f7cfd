package io.qvirt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoaderTest {
    static ManifestException fails(String text) {
        return assertThrows(ManifestException.class, () -> ManifestLoader.loadString(text, "in.yaml"));
    }

    @Test
    void yamlSyntaxErrorHasLineAndColumn() {
        ManifestException e = fails("""
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata:
                  name: broken
                spec:
                  template:
                    spec:
                      domain:
                        devices:
                          disks:
                          - name: a
                           disk: {}
                """);
        assertEquals(12, e.line());
        assertEquals(12, e.column());
        assertTrue(e.getMessage().startsWith("in.yaml:12:12: YAML syntax error: "), e.getMessage());
    }

    @Test
    void tabIndentation() {
        ManifestException e = fails("kind: VirtualMachine\nmetadata:\n\tname: x\n");
        assertEquals(3, e.line());
        assertTrue(e.getMessage().contains("YAML syntax error"), e.getMessage());
    }

    @Test
    void duplicateKeys() {
        ManifestException e = fails("apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nkind: VirtualMachine\n");
        assertEquals(3, e.line());
        assertEquals("in.yaml:3:1: document 1: kind: duplicate key 'kind'", e.getMessage());
    }

    @Test
    void jsonSyntaxError() {
        ManifestException e = fails("{\n  \"apiVersion\": \"kubevirt.io/v1\",\n  \"kind\": \"VirtualMachine\"\n  \"x\": 1\n}");
        assertEquals(4, e.line());
        assertTrue(e.getMessage().startsWith("in.yaml:4:3: JSON syntax error: "), e.getMessage());
    }

    @Test
    void unknownKind() {
        ManifestException e = fails("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n");
        assertEquals("in.yaml:1:1: document 1: unknown kind 'Pod': expected VirtualMachine or VirtualMachineInstance (or, beside a VirtualMachine, VirtualMachineInstancetype, "
                + "VirtualMachineClusterInstancetype, VirtualMachinePreference or VirtualMachineClusterPreference)", e.getMessage());
    }

    @Test
    void missingKind() {
        ManifestException e = fails("apiVersion: kubevirt.io/v1\nmetadata: {name: p}\n");
        assertEquals("in.yaml:1:1: document 1: kind is required: expected VirtualMachine or VirtualMachineInstance (or, beside a VirtualMachine, VirtualMachineInstancetype, "
                + "VirtualMachineClusterInstancetype, VirtualMachinePreference or VirtualMachineClusterPreference)",
                e.getMessage());
    }

    @Test
    void wrongApiVersion() {
        ManifestException e = fails("kind: VirtualMachine\napiVersion: kubevirt.io/v2\n");
        assertEquals("in.yaml:1:1: document 1: apiVersion 'kubevirt.io/v2' is not served for VirtualMachine: "
                + "expected kubevirt.io/v1", e.getMessage());
        e = fails("kind: VirtualMachine\n");
        assertEquals("in.yaml:1:1: document 1: apiVersion is required: expected kubevirt.io/v1", e.getMessage());
    }

    @Test
    void secondDocumentErrorNamesItsLine() {
        ManifestException e = fails("""
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata: {name: a}
                spec: {domain: {devices: {}}}
                ---
                apiVersion: apps/v1
                kind: Deployment
                """);
        assertEquals(6, e.line());
        assertTrue(e.getMessage().contains("document 2: unknown kind 'Deployment'"), e.getMessage());
    }

    @Test
    void wrongTypeNamesTheField() {
        ManifestException e = fails("""
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata: {name: a}
                spec:
                  domain:
                    cpu: {cores: many}
                    devices: {}
                """);
        assertEquals("in.yaml:6:18: document 1: spec.domain.cpu.cores: expected an integer, found a string \"many\"",
                e.getMessage());
    }

    @Test
    void notAMapping() {
        ManifestException e = fails("- a\n- b\n");
        assertTrue(e.getMessage().contains("document 1 is not a mapping"), e.getMessage());
    }

    @Test
    void emptyInput() {
        assertTrue(fails("# nothing\n").getMessage().contains("no document"));
        assertTrue(fails("").getMessage().contains("no document"));
    }

    @Test
    void multipleDocumentsAndEmptyOnesSkipped() throws Exception {
        List<LoadedManifest> docs = ManifestLoader.loadString("""
                ---
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata: {name: a, namespace: ns}
                spec: {running: true, template: {spec: {domain: {devices: {}}}}}
                ---
                ---
                apiVersion: kubevirt.io/v1alpha3
                kind: VirtualMachineInstance
                metadata: {name: b}
                spec: {domain: {devices: {}}}
                """, "multi");
        assertEquals(2, docs.size());
        assertEquals("VirtualMachine", docs.get(0).kind());
        assertEquals("ns", docs.get(0).namespace());
        assertEquals(2, docs.get(0).line());
        assertEquals("VirtualMachineInstance", docs.get(1).kind());
        assertEquals("default", docs.get(1).namespace());
        assertEquals(8, docs.get(1).line());
        assertEquals(1, docs.get(1).documentIndex());
        assertNull(docs.get(1).vm());
        assertEquals("b", docs.get(1).vmi().getMetadata().getName());
    }

    @Test
    void jsonArrayAndList() throws Exception {
        String vmi = "{\"apiVersion\":\"kubevirt.io/v1\",\"kind\":\"VirtualMachineInstance\",\"metadata\":{\"name\":\"x\"},"
                + "\"spec\":{\"domain\":{\"devices\":{}}}}";
        assertEquals(2, ManifestLoader.loadString("[" + vmi + "," + vmi + "]", "a.json").size());
        assertEquals(1, ManifestLoader.loadString("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[" + vmi + "]}",
                "l.json").size());
    }

    @Test
    void vmYieldsItsTemplateAsVmi() throws Exception {
        LoadedManifest m = ManifestLoader.loadString("""
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata: {name: vm1, namespace: ns, uid: 1234-5678, labels: {vm-label: x}}
                spec:
                  runStrategy: Always
                  template:
                    metadata:
                      name: ignored
                      labels: {kubevirt.io/domain: vm1}
                      annotations: {a: b}
                    spec: {domain: {devices: {}}}
                """, "vm").get(0);
        VirtualMachineInstance vmi = m.vmi();
        assertEquals("vm1", vmi.getMetadata().getName());
        assertEquals("ns", vmi.getMetadata().getNamespace());
        assertEquals("vm1", vmi.getMetadata().getLabels().get("kubevirt.io/domain"));
        assertNull(vmi.getMetadata().getLabels().get("vm-label"));
        assertEquals("b", vmi.getMetadata().getAnnotations().get("a"));
        var owner = vmi.getMetadata().getOwnerReferences().get(0);
        assertEquals("VirtualMachine", owner.getKind());
        assertEquals("kubevirt.io/v1", owner.getApiVersion());
        assertEquals("1234-5678", owner.getUid());
        assertEquals(true, owner.getController());
        assertEquals("VirtualMachineInstance", vmi.getKind());
        assertEquals("kubevirt.io/v1", vmi.getApiVersion());
        // a new object each time
        vmi.getSpec().setHostname("changed");
        assertNull(m.vmi().getSpec().getHostname());
    }

    @Test
    void missingFile() {
        ManifestException e = assertThrows(ManifestException.class,
                () -> ManifestLoader.load(Path.of("/nonexistent/vm.yaml")));
        assertTrue(e.getMessage().startsWith("/nonexistent/vm.yaml: cannot read: "), e.getMessage());
    }
}
