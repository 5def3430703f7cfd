package io.qvirt.api.migrations;

import java.util.Collection;
import java.util.Map;
import java.util.Optional;

/**
 * KubeVirt's matchPolicy: which migration policy a VMI's migration runs under. A policy matches when every label of
 * its {@code virtualMachineInstanceSelector} is on the VMI and every label of its {@code namespaceSelector} is on the
 * VMI's namespace (a policy without {@code selectors} matches nothing; empty selectors match everything). Of the
 * matching policies the one with the most matched labels wins, VMI labels breaking a tie, then the lexicographically
 * first name. Pure: the caller brings the policies and the labels.
 */
public final class MigrationPolicies {
    private MigrationPolicies() {
    }

    /** A match's weight: labels matched on the VMI and on its namespace. */
    private record Score(int vmiLabels, int namespaceLabels) {
        int total() {
            return vmiLabels + namespaceLabels;
        }

        int compare(Score o) {
            return total() != o.total() ? Integer.compare(total(), o.total()) : Integer.compare(vmiLabels, o.vmiLabels);
        }
    }

    /**
     * @param vmiLabels       the VMI's labels (null: none)
     * @param namespaceLabels its namespace's labels (null: none)
     * @return the policy the migration runs under, if any matches
     */
    public static Optional<MigrationPolicy> match(Collection<MigrationPolicy> policies, Map<String, String> vmiLabels,
                                                  Map<String, String> namespaceLabels) {
        MigrationPolicy best = null;
        Score bestScore = null;
        for (MigrationPolicy p : policies) {
            Optional<Score> s = score(p, vmiLabels == null ? Map.of() : vmiLabels,
                    namespaceLabels == null ? Map.of() : namespaceLabels);
            if (s.isEmpty()) {
                continue;
            }
            int c = bestScore == null ? 1 : s.get().compare(bestScore);
            if (c > 0 || (c == 0 && name(p).compareTo(name(best)) < 0)) {
                best = p;
                bestScore = s.get();
            }
        }
        return Optional.ofNullable(best);
    }

    private static Optional<Score> score(MigrationPolicy p, Map<String, String> vmiLabels,
                                         Map<String, String> namespaceLabels) {
        MigrationPolicySelectors sel = p.getSpec() == null ? null : p.getSpec().getSelectors();
        if (sel == null) {
            return Optional.empty();
        }
        int vmi = matched(sel.getVirtualMachineInstanceSelector(), vmiLabels);
        int ns = matched(sel.getNamespaceSelector(), namespaceLabels);
        return vmi < 0 || ns < 0 ? Optional.empty() : Optional.of(new Score(vmi, ns));
    }

    /** How many of the selector's labels the object carries, or -1 if it lacks one (a label without a value: too). */
    private static int matched(Map<String, String> selector, Map<String, String> labels) {
        if (selector == null) {
            return 0;
        }
        for (Map.Entry<String, String> e : selector.entrySet()) {
            if (e.getValue() == null || !e.getValue().equals(labels.get(e.getKey()))) {
                return -1;
            }
        }
        return selector.size();
    }

    private static String name(MigrationPolicy p) {
        return p.getMetadata() == null || p.getMetadata().getName() == null ? "" : p.getMetadata().getName();
    }
}
