package io.qvirt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Quantity;
import io.qvirt.api.model.Memory;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class QuantitiesTest {
    @ParameterizedTest(name = "{0} = {1} bytes")
    @CsvSource({
        "64M, 64000000",
        "64Mi, 67108864",
        "1Ki, 1024",
        "1k, 1000",
        "1Gi, 1073741824",
        "1G, 1000000000",
        "1.5Gi, 1610612736",
        "0.5Mi, 524288",
        "1e3, 1000",
        "1E6, 1000000",
        "2e-3, 1",
        "100m, 1",
        "1000m, 1",
        "1001m, 2",
        "0, 0",
        "+5Mi, 5242880",
        ".5Ki, 512",
        "5., 5",
        "1Ti, 1099511627776",
        "1Pi, 1125899906842624",
        "1Ei, 1152921504606846976",
        "1E, 1000000000000000000",
        "-1Mi, -1048576",
    })
    void bytesAsKubernetesReadsThem(String text, long bytes) {
        assertEquals(bytes, Quantities.bytes(text));
        assertEquals(bytes, Quantities.bytes(new Quantity(text)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "M", "64 M", "64MB", "64mi", "1.2.3", "0x10", "1e", "1Gi ", "Gi1", "1KiB", "--1", "1e1.5"})
    void refusesWhatKubernetesRefuses(String text) {
        assertFalse(Quantities.isValid(text), text);
        assertThrows(IllegalArgumentException.class, () -> Quantities.bytes(text));
    }

    @Test
    void exactKeepsFractions() {
        assertEquals(0, new BigDecimal("0.1").compareTo(Quantities.exact("100m")));
        assertEquals(500, Quantities.milliValue(new Quantity("500m")));
        assertEquals(2000, Quantities.milliValue(new Quantity("2")));
        assertEquals(1500, Quantities.milliValue(new Quantity("1.5")));
    }

    @Test
    void absentIsZeroAndTextRoundTrips() {
        assertEquals(0, Quantities.bytes((Quantity) null));
        assertEquals("64Mi", Quantities.text(new Quantity("64Mi")));
        assertTrue(Quantities.isValid(new Quantity("64Mi")));
    }

    @Test
    void yamlQuantitiesKeepTheirTextAndIntegersAreAccepted() throws Exception {
        Memory m = KubevirtJson.yaml().readValue("guest: 64M\nmaxGuest: 1024\n", Memory.class);
        assertEquals(64_000_000, Quantities.bytes(m.getGuest()));
        assertEquals(1024, Quantities.bytes(m.getMaxGuest()));
        assertEquals("{\"guest\":\"64M\",\"maxGuest\":\"1024\"}", KubevirtJson.toJson(m));
    }
}
