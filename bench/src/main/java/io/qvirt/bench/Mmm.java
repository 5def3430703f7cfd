package io.qvirt.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** min / median / max of the runs of one figure (NaN samples, i.e. not reached, are left out). */
record Mmm(double min, double median, double max, int n) {
    static final Mmm NONE = new Mmm(Double.NaN, Double.NaN, Double.NaN, 0);

    static Mmm of(List<Double> xs) {
        List<Double> s = xs.stream().filter(d -> d != null && !d.isNaN()).sorted().toList();
        if (s.isEmpty()) {
            return NONE;
        }
        int k = s.size();
        double med = k % 2 == 1 ? s.get(k / 2) : (s.get(k / 2 - 1) + s.get(k / 2)) / 2;
        return new Mmm(s.get(0), med, s.get(k - 1), k);
    }

    boolean present() {
        return n > 0;
    }

    String fmt(String f) {
        if (!present()) {
            return "-";
        }
        return String.format(Locale.ROOT, f + " / " + f + " / " + f, min, median, max);
    }

    Map<String, Object> map() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("min", present() ? min : null);
        m.put("median", present() ? median : null);
        m.put("max", present() ? max : null);
        m.put("n", n);
        return m;
    }
}
