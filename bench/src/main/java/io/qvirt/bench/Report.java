package io.qvirt.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/** The figures of one run: the side-by-side table (markdown), its JSON form, and the ratio chart. */
final class Report {
    /** One row: a figure per contender (absent where it does not apply). */
    record Figure(String id, String name, String fmt, Map<Vm.Kind, Mmm> values, String chartLabel) {
        double median(Vm.Kind k) {
            Mmm m = values.get(k);
            return m == null || !m.present() ? Double.NaN : m.median();
        }

        /** median(a) / median(b); NaN where either is missing or b is 0. */
        double ratio(Vm.Kind a, Vm.Kind b) {
            double x = median(a);
            double y = median(b);
            return Double.isNaN(x) || Double.isNaN(y) || y == 0 ? Double.NaN : x / y;
        }
    }

    /** The ratio columns: qvirt's two modes against the other two contenders. */
    static final List<Vm.Kind[]> RATIOS = List.of(
            new Vm.Kind[] {Vm.Kind.RUN, Vm.Kind.RAW}, new Vm.Kind[] {Vm.Kind.RUN, Vm.Kind.LIBVIRT},
            new Vm.Kind[] {Vm.Kind.EXEC, Vm.Kind.RAW}, new Vm.Kind[] {Vm.Kind.EXEC, Vm.Kind.LIBVIRT});

    final List<String> sections = new ArrayList<>();
    final Map<String, List<Figure>> figures = new LinkedHashMap<>();

    void add(String section, Figure f) {
        figures.computeIfAbsent(section, s -> {
            sections.add(s);
            // Sections are numbered as in the issue; they run in another order (QMP between the VM rounds).
            sections.sort(null);
            return new ArrayList<>();
        }).add(f);
    }

    Figure find(String id) {
        return figures.values().stream().flatMap(List::stream).filter(f -> f.id().equals(id)).findFirst()
                .orElse(new Figure(id, id, "%.1f", Map.of(), null));
    }

    static String ratioLabel(Vm.Kind[] r) {
        return r[0].label.replace("qvirt ", "") + "/" + (r[1] == Vm.Kind.RAW ? "raw" : "libvirt");
    }

    String table() {
        StringBuilder sb = new StringBuilder();
        for (String s : sections) {
            sb.append("\n### ").append(s).append("\n\n| figure |");
            for (Vm.Kind k : Vm.Kind.values()) {
                sb.append(' ').append(k.label).append(" |");
            }
            for (Vm.Kind[] r : RATIOS) {
                sb.append(' ').append(ratioLabel(r)).append(" |");
            }
            sb.append("\n|---|");
            sb.append("---:|".repeat(Vm.Kind.values().length + RATIOS.size()));
            sb.append('\n');
            for (Figure f : figures.get(s)) {
                sb.append("| ").append(f.name()).append(" |");
                int most = f.values().values().stream().mapToInt(Mmm::n).max().orElse(0);
                for (Vm.Kind k : Vm.Kind.values()) {
                    Mmm m = f.values().get(k);
                    // Fewer samples than the others (a failed round) is said in the cell.
                    sb.append(' ').append(m == null ? "" : m.fmt(f.fmt()) + (m.n() < most ? " (n=" + m.n() + ")" : ""))
                            .append(" |");
                }
                for (Vm.Kind[] r : RATIOS) {
                    double x = f.ratio(r[0], r[1]);
                    sb.append(' ').append(Double.isNaN(x) ? "" : String.format(Locale.ROOT, "%.2f", x)).append(" |");
                }
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    Map<String, Object> json() {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String s : sections) {
            List<Map<String, Object>> rows = new ArrayList<>();
            for (Figure f : figures.get(s)) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("id", f.id());
                row.put("figure", f.name());
                Map<String, Object> v = new LinkedHashMap<>();
                f.values().forEach((k, m) -> v.put(k.name().toLowerCase(Locale.ROOT), m.map()));
                row.put("values", v);
                Map<String, Object> ratios = new LinkedHashMap<>();
                for (Vm.Kind[] r : RATIOS) {
                    double x = f.ratio(r[0], r[1]);
                    ratios.put(ratioLabel(r), Double.isNaN(x) ? null : x);
                }
                row.put("ratiosOfMedians", ratios);
                rows.add(row);
            }
            out.put(s, rows);
        }
        return out;
    }

    /**
     * Bar chart of the ratios of medians (log scale, 1 = same as the other contender; below 1 qvirt is
     * smaller/faster), one group per chart figure, one bar per ratio column.
     */
    void chart(Path png, String title) throws Exception {
        List<Figure> rows = sections.stream().flatMap(s -> figures.get(s).stream())
                .filter(f -> f.chartLabel() != null).toList();
        int w = 1200;
        int rowH = 64;
        int top = 70;
        int left = 300;
        int right = 40;
        int h = top + rows.size() * rowH + 70;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(title, 20, 28);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString("ratio of medians, log scale: < 1 means qvirt is faster / smaller", 20, 48);
        double lo = Math.log(1 / 128.0);
        double hi = Math.log(256.0);
        int plotW = w - left - right;
        java.util.function.DoubleUnaryOperator x = v -> left + (Math.log(v) - lo) / (hi - lo) * plotW;
        for (double v = 1 / 128.0; v <= 256.0 + 1e-9; v *= 2) {
            int px = (int) x.applyAsDouble(v);
            g.setColor(v == 1.0 ? Color.BLACK : new Color(220, 220, 220));
            g.setStroke(new BasicStroke(v == 1.0 ? 2f : 1f));
            g.drawLine(px, top - 5, px, top + rows.size() * rowH);
            g.setColor(Color.DARK_GRAY);
            String lab = v >= 1 ? String.format(Locale.ROOT, "%.0f", v) : "1/" + String.format(Locale.ROOT, "%.0f", 1 / v);
            g.drawString(lab, px - 8, top + rows.size() * rowH + 16);
        }
        Color[] colors = {new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44), new Color(214, 39, 40)};
        int barH = (rowH - 12) / RATIOS.size();
        for (int i = 0; i < rows.size(); i++) {
            Figure f = rows.get(i);
            int y0 = top + i * rowH + 4;
            g.setColor(Color.BLACK);
            g.drawString(f.chartLabel(), 10, y0 + rowH / 2);
            for (int j = 0; j < RATIOS.size(); j++) {
                double v = f.ratio(RATIOS.get(j)[0], RATIOS.get(j)[1]);
                int y = y0 + j * barH;
                if (Double.isNaN(v)) {
                    continue;
                }
                g.setColor(colors[j]);
                String lab = String.format(Locale.ROOT, "%.2f", v);
                if (v <= 0) {
                    g.drawString("0 (nothing beside QEMU)", (int) x.applyAsDouble(1.0) + 4, y + barH - 2);
                    continue;
                }
                double c = Math.max(1 / 128.0, Math.min(256.0, v));
                int x1 = (int) x.applyAsDouble(1.0);
                int x2 = (int) x.applyAsDouble(c);
                g.fillRect(Math.min(x1, x2), y, Math.max(2, Math.abs(x2 - x1)), barH - 2);
                g.setColor(Color.BLACK);
                g.drawString(lab, v >= 1 ? x2 + 4 : x2 - 6 - g.getFontMetrics().stringWidth(lab), y + barH - 3);
            }
        }
        int ly = h - 28;
        int lx = left;
        for (int j = 0; j < RATIOS.size(); j++) {
            g.setColor(colors[j]);
            g.fillRect(lx, ly - 10, 14, 10);
            g.setColor(Color.BLACK);
            String lab = ratioLabel(RATIOS.get(j));
            g.drawString(lab, lx + 18, ly);
            lx += 40 + g.getFontMetrics().stringWidth(lab) + 20;
        }
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
    }
}
