using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace EventSourcedRegistry.Api.WebConsole;

/// <summary>
/// A model's deployment history (<c>GET /api/v1/models/{name}/deployments</c>) drawn as an SVG on the server: one lane per
/// version with its stage intervals, then one lane per environment (and target) with the versions reported deployed there,
/// on a time axis from the first interval to <c>end</c> (now, or the page's as-of instant), where open intervals stop.
/// A pure function of its input: no script, no style attribute (the console's CSP allows neither), colours from classes in
/// console.css; every string in it (stage, environment, target, actor, reason) passes the HTML encoder, so the page may
/// write the result as markup.
/// </summary>
public static class DeploymentChart
{
    public const int Width = 960;
    public const int LabelWidth = 200;
    public const int PlotWidth = Width - LabelWidth - 10;
    public const int LaneHeight = 24;
    public const int BarHeight = 16;
    public const int AxisHeight = 34;
    private const int LabelLength = 26;

    /// <summary>One row of the chart: its label and the intervals drawn on it.</summary>
    public sealed record Lane(string Label, IReadOnlyList<Wire.DeploymentInterval> Intervals);

    /// <summary>Each version's stage lane (by version), then each environment's deployment lane (by environment, target).</summary>
    public static IReadOnlyList<Lane> Lanes(IEnumerable<Wire.DeploymentInterval> intervals)
    {
        var all = intervals.ToList();
        var stages = all.Where(i => i.Kind == "stage").GroupBy(i => i.Version).OrderBy(g => g.Key)
            .Select(g => new Lane($"v{g.Key} stages", g.OrderBy(i => i.Entered.Sequence).ToList()));
        var deployments = all.Where(i => i.Kind == "deployment").GroupBy(i => (i.Environment ?? "", i.Target ?? ""))
            .OrderBy(g => g.Key.Item1, StringComparer.Ordinal).ThenBy(g => g.Key.Item2, StringComparer.Ordinal)
            .Select(g => new Lane(Slot(g.Key.Item1, g.Key.Item2), g.OrderBy(i => i.Entered.Sequence).ToList()));
        return stages.Concat(deployments).ToList();
    }

    /// <summary>The SVG markup; <paramref name="title"/> is its accessible name (encoded here like every other string).</summary>
    public static string Svg(IEnumerable<Wire.DeploymentInterval> intervals, DateTimeOffset end, string title)
    {
        var lanes = Lanes(intervals);
        var height = AxisHeight + Math.Max(1, lanes.Count) * LaneHeight + 4;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {Width} {height}\" width=\"{Width}\" height=\"{height}\" role=\"img\" aria-label=\"{E(title)}\">");
        svg.Append("<title>").Append(E(title)).Append("</title>");
        if (lanes.Count == 0)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<text class=\"empty\" x=\"{LabelWidth}\" y=\"{AxisHeight}\">No stage or deployment history.</text></svg>");
            return svg.ToString();
        }

        var start = lanes.SelectMany(l => l.Intervals).Min(i => i.Entered.At);
        if (end < start) end = start;
        // A history of one instant still gets a plot: its bars at the left edge, at their minimum width.
        var span = Math.Max((end - start).TotalSeconds, 1);
        double X(DateTimeOffset at) => LabelWidth + Math.Clamp((at - start).TotalSeconds / span, 0, 1) * PlotWidth;

        svg.Append(CultureInfo.InvariantCulture, $"<g class=\"axis\"><line x1=\"{LabelWidth}\" y1=\"{AxisHeight - 6}\" x2=\"{LabelWidth + PlotWidth}\" y2=\"{AxisHeight - 6}\" stroke=\"currentColor\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{LabelWidth}\" y=\"14\">{E(Time(start))}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{LabelWidth + PlotWidth}\" y=\"14\" text-anchor=\"end\">{E(Time(end))}</text></g>");

        for (var row = 0; row < lanes.Count; row++)
        {
            var lane = lanes[row];
            var y = AxisHeight + row * LaneHeight;
            svg.Append(CultureInfo.InvariantCulture, $"<g class=\"lane\"><text class=\"lane-label\" x=\"4\" y=\"{y + BarHeight - 3}\">{E(Short(lane.Label))}</text>");
            foreach (var interval in lane.Intervals)
            {
                var x1 = X(interval.Entered.At);
                var x2 = X(interval.Left?.At ?? end);
                // A bar is at least 2 units wide, so an interval of a moment is still seen.
                var width = Math.Max(x2 - x1, 2);
                var kind = interval.Kind == "stage" ? StageClass(interval.Stage) : "deployment";
                svg.Append(CultureInfo.InvariantCulture,
                    $"<rect class=\"bar {kind}{(interval.Left is null ? " open" : "")}\" x=\"{F(x1)}\" y=\"{y}\" width=\"{F(width)}\" height=\"{BarHeight}\">");
                svg.Append("<title>").Append(E(Describe(interval, end))).Append("</title></rect>");
                var text = interval.Kind == "stage" ? interval.Stage ?? "" : $"v{interval.Version}";
                if (width >= 8 * text.Length + 6)
                    svg.Append(CultureInfo.InvariantCulture, $"<text class=\"bar-label\" x=\"{F(x1 + 3)}\" y=\"{y + BarHeight - 4}\">{E(text)}</text>");
            }
            svg.Append("</g>");
        }
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>One interval in words: what, from when to when, who began it and why (the chart's tooltip and its table's row).</summary>
    public static string Describe(Wire.DeploymentInterval interval, DateTimeOffset end)
    {
        var what = interval.Kind == "stage"
            ? $"Version {interval.Version} in {interval.Stage}"
            : $"Version {interval.Version} deployed to {Slot(interval.Environment ?? "", interval.Target ?? "")}";
        var until = interval.Left is { } left ? $"to {Time(left.At)}" : $"still at {Time(end)}";
        var who = interval.Entered.Actor is { Length: > 0 } actor ? $", by {actor}" : "";
        var why = interval.Entered.Reason is { Length: > 0 } reason ? $" ({reason})" : "";
        return $"{what} from {Time(interval.Entered.At)} {until}{who}{why}";
    }

    /// <summary>Colour classes for the default lifecycle's stages; a workspace's own stages share one.</summary>
    public static string StageClass(string? stage) => stage?.ToLowerInvariant() switch
    {
        "none" => "stage-none",
        "staging" => "stage-staging",
        "production" => "stage-production",
        "archived" => "stage-archived",
        _ => "stage-other",
    };

    private static string Slot(string environment, string target) => target.Length > 0 ? $"{environment} ({target})" : environment;

    private static string Short(string label) => label.Length <= LabelLength ? label : label[..(LabelLength - 1)] + "…";

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string E(string text) => HtmlEncoder.Default.Encode(text);
}
