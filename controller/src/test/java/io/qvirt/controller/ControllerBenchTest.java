package io.qvirt.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.controller.bench.ControllerBench;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The benchmark's harness at a small size, so it cannot rot: 50 VMs against fabric8's CRUD mock API
 * server (not a real kube-apiserver) all get VMI, pod and status. Figures are not asserted here (this
 * machine is shared with the build); run {@link ControllerBench#main} for them.
 */
class ControllerBenchTest {
    @Test
    void fiftyVmsAllComplete() throws Exception {
        ControllerBench.Result r = ControllerBench.run(50, 4, 4, Duration.ofSeconds(60));
        assertEquals(50, r.done(), r.toString());
        assertTrue(r.vmsPerSecond() > 0 && r.p99ms() >= r.p50ms(), r.toString());
    }
}
