package io.qvirt.controller;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * A test with a fresh fabric8 CRUD mock API server (not a real kube-apiserver) and a controller on it for
 * every test method: {@link #h}.
 */
abstract class WithController {
    ControllerHarness h;

    @BeforeEach
    void startController() throws Exception {
        h = new ControllerHarness(ControllerHarness.options());
    }

    @AfterEach
    void stopController() {
        h.close();
    }
}
