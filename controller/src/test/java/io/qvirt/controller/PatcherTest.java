package io.qvirt.controller;

import io.qvirt.api.client.PatchConflictException;
import io.qvirt.api.client.ResourcePatcher;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qvirt.api.VirtualMachine;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * resourceVersion-guarded status writes against fabric8's CRUD mock API server (not a real kube-apiserver;
 * the mock does refuse a stale resourceVersion with 409, as the real one does).
 */
class PatcherTest {
    @Test
    void staleWriteConflictsThenRereadsAndConverges() {
        try (MockApi api = new MockApi()) {
            VirtualMachine stale = api.client.resource(MockApi.seedVm()).create();
            // Someone else writes in between: the copy we hold is now stale.
            api.client.resources(VirtualMachine.class).inNamespace("default").withName("testvm").subresource("status")
                    .patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                            io.fabric8.kubernetes.client.dsl.base.PatchType.JSON),
                            "[{\"op\":\"add\",\"path\":\"/status\",\"value\":{\"printableStatus\":\"Starting\"}}]");
            AtomicInteger computed = new AtomicInteger();
            VirtualMachine written = new ResourcePatcher(api.client).patchStatus(VirtualMachine.class, stale, fresh -> {
                computed.incrementAndGet();
                ObjectNode s = JsonNodeFactory.instance.objectNode();
                // computed from what it read: keeps the other writer's field in view
                s.put("printableStatus", fresh.getStatus() == null ? "Stopped" : "Running");
                return s;
            }, true);
            assertEquals(2, computed.get(), "one conflict, one re-read, one retry");
            assertEquals("Running", written.getStatus().getPrintableStatus());
            assertEquals("Running", api.client.resources(VirtualMachine.class).inNamespace("default")
                    .withName("testvm").get().getStatus().getPrintableStatus());
            assertNotEquals(stale.getMetadata().getResourceVersion(), written.getMetadata().getResourceVersion());
        }
    }

    @Test
    void endlessConflictsEndInATypedException() {
        try (MockApi api = new MockApi()) {
            api.client.resource(MockApi.seedVm()).create();
            var r = api.client.resources(VirtualMachine.class).inNamespace("default").withName("testvm");
            ResourcePatcher p = new ResourcePatcher(api.client);
            AtomicInteger n = new AtomicInteger();
            assertThrows(PatchConflictException.class, () -> p.patchStatus(VirtualMachine.class, r.get(), fresh -> {
                // another writer wins every race
                r.subresource("status").patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                        io.fabric8.kubernetes.client.dsl.base.PatchType.JSON),
                        "[{\"op\":\"add\",\"path\":\"/status\",\"value\":{\"printableStatus\":\"X" + n.incrementAndGet() + "\"}}]");
                ObjectNode s = JsonNodeFactory.instance.objectNode();
                s.put("printableStatus", "Mine");
                return s;
            }, true));
            assertEquals(ResourcePatcher.ATTEMPTS, n.get());
        }
    }

    @Test
    void mergeShapedChangesBecomeJsonPatchOps() {
        var cur = io.qvirt.api.KubevirtJson.json().createObjectNode();
        cur.putObject("status").put("a", 1).put("gone", 2);
        ObjectNode merge = JsonNodeFactory.instance.objectNode();
        merge.putObject("status").put("a", 3).putNull("gone").putNull("absent").putArray("list").add("x");
        assertEquals("[{\"op\":\"add\",\"path\":\"/status/a\",\"value\":3},{\"op\":\"remove\",\"path\":\"/status/gone\"},"
                + "{\"op\":\"add\",\"path\":\"/status/list\",\"value\":[\"x\"]}]", ResourcePatcher.toJsonPatch(cur, merge).toString());
        ObjectNode fresh = JsonNodeFactory.instance.objectNode();
        assertEquals("[{\"op\":\"add\",\"path\":\"/status\",\"value\":{\"a\":3,\"list\":[\"x\"]}}]",
                ResourcePatcher.toJsonPatch(fresh, merge).toString());
    }
}
