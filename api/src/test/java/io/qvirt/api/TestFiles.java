package io.qvirt.api;

import io.qvirt.testdata.TestGuest;
import java.nio.file.Path;

final class TestFiles {
    private TestFiles() {
    }

    static Path root() {
        return TestGuest.projectRoot();
    }

    static Path fixture(String name) {
        return root().resolve("testdata/fixtures").resolve(name);
    }

    static Path seedVm() {
        return root().resolve("testdata/vm.yaml");
    }
}
