package io.qvirt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.api.migrations.MigrationPolicies;
import io.qvirt.api.migrations.MigrationPolicy;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** KubeVirt's migration policy matching and how a matched policy changes the cluster's settings. */
class MigrationPoliciesTest {
    private static MigrationPolicy policy(String yaml) throws Exception {
        return KubevirtJson.yaml().readValue("apiVersion: migrations.kubevirt.io/v1alpha1\nkind: MigrationPolicy\n"
                + yaml, MigrationPolicy.class);
    }

    private static String matched(List<MigrationPolicy> ps, Map<String, String> vmi, Map<String, String> ns) {
        Optional<MigrationPolicy> m = MigrationPolicies.match(ps, vmi, ns);
        return m.map(p -> p.getMetadata().getName()).orElse("none");
    }

    @Test
    void theMostDetailedMatchingPolicyWins() throws Exception {
        MigrationPolicy any = policy("metadata: {name: any}\nspec: {selectors: {}}");
        MigrationPolicy none = policy("metadata: {name: a-none}\nspec: {allowPostCopy: true}");
        MigrationPolicy tier = policy("metadata: {name: tier}\nspec: {selectors: {virtualMachineInstanceSelector: "
                + "{tier: gold}}}");
        MigrationPolicy team = policy("metadata: {name: team}\nspec: {selectors: {namespaceSelector: {team: a}}}");
        MigrationPolicy both = policy("metadata: {name: both}\nspec: {selectors: {namespaceSelector: {team: a}, "
                + "virtualMachineInstanceSelector: {tier: gold}}}");
        List<MigrationPolicy> all = List.of(any, none, tier, team, both);
        assertEquals("any", matched(all, Map.of(), Map.of()), "empty selectors match everything; none: nothing");
        assertEquals("tier", matched(all, Map.of("tier", "gold"), Map.of("team", "b")));
        assertEquals("any", matched(all, Map.of("tier", "silver"), Map.of()), "a label with another value is no match");
        assertEquals("both", matched(all, Map.of("tier", "gold"), Map.of("team", "a")), "two labels beat one");
        assertEquals("tier", matched(List.of(team, tier), Map.of("tier", "gold"), Map.of("team", "a")),
                "a tie: the VMI's labels win over the namespace's");
        MigrationPolicy tier2 = policy("metadata: {name: a-tier}\nspec: {selectors: {virtualMachineInstanceSelector: "
                + "{tier: gold}}}");
        assertEquals("a-tier", matched(List.of(tier, tier2), Map.of("tier", "gold"), null), "then the first name");
        assertEquals("none", matched(List.of(none, team), null, null));
        MigrationPolicy nullValue = policy("metadata: {name: nul}\nspec: {selectors: {virtualMachineInstanceSelector: "
                + "{tier: null}}}");
        assertEquals("none", matched(List.of(nullValue), Map.of("tier", "gold"), Map.of()), "a label without a value");
    }

    @Test
    void aPolicyOverridesWhatItGives() throws Exception {
        MigrationSettings cluster = new MigrationSettings(5, 2, 0, 150, 150, true, false, false);
        MigrationSettings s = cluster.applying(policy("metadata: {name: p}\nspec: {selectors: {}, "
                + "bandwidthPerMigration: 1Mi, completionTimeoutPerGiB: 3, allowPostCopy: true}").getSpec());
        assertEquals(new MigrationSettings(5, 2, 1L << 20, 3, 150, true, true, true), s,
                "allowWorkloadDisruption follows the policy's allowPostCopy; the rest stays the cluster's");
        MigrationSettings noDisruption = cluster.applying(policy("metadata: {name: p}\nspec: {selectors: {}, "
                + "allowPostCopy: true, allowWorkloadDisruption: false, allowAutoConverge: false}").getSpec());
        assertTrue(noDisruption.allowPostCopy());
        assertFalse(noDisruption.allowWorkloadDisruption());
        assertFalse(noDisruption.allowAutoConverge());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cluster.applying(
                policy("metadata: {name: p}\nspec: {selectors: {}, bandwidthPerMigration: lots}").getSpec()));
        assertEquals("spec.bandwidthPerMigration: 'lots' is not allowed: a quantity of bytes per second such as 64Mi, "
                + "0 for unlimited", e.getMessage());
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class, () -> cluster.applying(
                policy("metadata: {name: p}\nspec: {selectors: {}, completionTimeoutPerGiB: 4000000000}").getSpec()));
        assertEquals("spec.completionTimeoutPerGiB: '4000000000' is not allowed: an integer from 0 to 2147483647",
                big.getMessage(), "what the handler could not read back is refused when applied");
    }

    @Test
    void theResolvedSettingsTravelInTheVmisMigrationState() throws Exception {
        MigrationSettings s = new MigrationSettings(3, 1, 64L << 20, 3, 30, true, true, false);
        assertEquals(s, MigrationSettings.fromConfiguration(s.toConfiguration(), MigrationSettings.KUBEVIRT_DEFAULTS));
        String json = KubevirtJson.json().writeValueAsString(s.toConfiguration());
        assertTrue(json.contains("\"bandwidthPerMigration\":\"67108864\""), json);
        assertEquals(MigrationSettings.KUBEVIRT_DEFAULTS,
                MigrationSettings.fromConfiguration(null, MigrationSettings.KUBEVIRT_DEFAULTS), "none written");
    }
}
