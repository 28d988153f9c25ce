using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using EventSourcedRegistry.Api.WebConsole;
using EventSourcedRegistry.Contracts.V1;

namespace EventSourcedRegistry.Tests.Console;

public sealed class when_drawing_the_deployment_chart
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 3, 12, 0, 0, TimeSpan.Zero);
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static DeploymentInterval Stage(int version, string stage, int from, int? to, string actor = "key:ci", string? reason = null) =>
        new("stage", version, stage, null, null, new IntervalEnd(from, T0.AddHours(from), actor, reason),
            to is { } t ? new IntervalEnd(t, T0.AddHours(t), actor, null) : null);

    private static DeploymentInterval Deployed(int version, string environment, int from, int? to, string? target = null) =>
        new("deployment", version, null, environment, target, new IntervalEnd(from, T0.AddHours(from), "key:cd", null),
            to is { } t ? new IntervalEnd(t, T0.AddHours(t), "key:cd", null) : null);

    /// <summary>The chart parsed as XML: well-formed markup is a precondition of every other check.</summary>
    private static XElement Parse(string svg) => XElement.Parse(svg);

    private static List<XElement> Bars(XElement chart) =>
        chart.Descendants(Svg + "rect").Where(r => ((string?)r.Attribute("class") ?? "").Split(' ').Contains("bar")).ToList();

    private static double Attr(XElement e, string name) => double.Parse((string)e.Attribute(name)!, CultureInfo.InvariantCulture);

    [Fact]
    public void each_interval_is_a_bar_placed_on_its_lane_between_its_begin_and_end()
    {
        // Ten hours drawn: v1 in Staging 0–4, in Production 4–10 (open, runs to the end), v2 deployed to prod 5–7.
        var end = T0.AddHours(10);
        var chart = Parse(DeploymentChart.Svg([Stage(1, "Staging", 0, 4), Stage(1, "Production", 4, null), Deployed(2, "prod", 5, 7)], end, "history"));

        var bars = Bars(chart);
        Assert.Equal(3, bars.Count);
        double X(int hours) => DeploymentChart.LabelWidth + hours / 10.0 * DeploymentChart.PlotWidth;
        var staging = bars[0];
        Assert.Contains("stage-staging", (string)staging.Attribute("class")!);
        Assert.Equal(X(0), Attr(staging, "x"), 1);
        Assert.Equal(X(4) - X(0), Attr(staging, "width"), 1);
        var production = bars[1];
        Assert.Contains("stage-production", (string)production.Attribute("class")!);
        Assert.Equal(X(4), Attr(production, "x"), 1);
        // The open interval runs to the chart's end, the right edge of the plot.
        Assert.Contains("open", ((string)production.Attribute("class")!).Split(' '));
        Assert.Equal(DeploymentChart.LabelWidth + DeploymentChart.PlotWidth, Attr(production, "x") + Attr(production, "width"), 1);
        Assert.Equal(Attr(staging, "y"), Attr(production, "y"));
        var deployed = bars[2];
        Assert.Contains("deployment", ((string)deployed.Attribute("class")!).Split(' '));
        Assert.Equal(X(5), Attr(deployed, "x"), 1);
        Assert.Equal(X(7) - X(5), Attr(deployed, "width"), 1);
        // Versions' stage lanes first, then each environment's lane below them.
        Assert.True(Attr(deployed, "y") > Attr(production, "y"));
        Assert.Equal(["v1 stages", "prod"], chart.Descendants(Svg + "text").Where(t => (string?)t.Attribute("class") == "lane-label").Select(t => t.Value));
        Assert.Contains("still at 2026-03-03 22:00:00Z", production.Element(Svg + "title")!.Value);
    }

    [Fact]
    public void an_open_interval_of_a_past_view_stops_at_the_instant_shown()
    {
        // As of 06:00 a version still in Production: its bar ends at the right edge, which is that instant, not now.
        var asOf = T0.AddHours(6);
        var chart = Parse(DeploymentChart.Svg([Stage(3, "Production", 2, null)], asOf, "as of"));
        var bar = Assert.Single(Bars(chart));
        Assert.Equal(DeploymentChart.LabelWidth + DeploymentChart.PlotWidth, Attr(bar, "x") + Attr(bar, "width"), 1);
        Assert.Contains("2026-03-03 18:00:00Z", chart.Value);
    }

    [Fact]
    public void hostile_text_in_labels_and_titles_is_encoded_never_markup()
    {
        const string hostile = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";
        var svg = DeploymentChart.Svg([Stage(1, hostile, 0, null, actor: hostile, reason: hostile), Deployed(1, hostile, 0, null, target: hostile)],
            T0.AddHours(1), hostile);

        Assert.DoesNotContain("<script", svg, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", svg, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;", svg);
        var chart = Parse(svg);
        // Only the chart's own elements, and the hostile text comes back as text where it was put.
        Assert.DoesNotContain(chart.DescendantsAndSelf(), e => e.Name.LocalName is not ("svg" or "title" or "g" or "line" or "text" or "rect"));
        Assert.Equal(hostile, chart.Element(Svg + "title")!.Value);
        Assert.Equal(hostile, (string)chart.Attribute("aria-label")!);
        Assert.Contains(hostile, Bars(chart)[0].Element(Svg + "title")!.Value);
        Assert.Equal("stage-other", DeploymentChart.StageClass(hostile));
        Assert.DoesNotContain(chart.DescendantsAndSelf().Attributes(), a => a.Name.LocalName == "style" || a.Name.LocalName.StartsWith("on", StringComparison.Ordinal));
    }

    [Fact]
    public void an_empty_history_draws_no_bar_and_says_so()
    {
        var chart = Parse(DeploymentChart.Svg([], T0, "nothing yet"));
        Assert.Empty(Bars(chart));
        Assert.Equal("img", (string)chart.Attribute("role")!);
        Assert.Equal("nothing yet", chart.Element(Svg + "title")!.Value);
        Assert.Contains("No stage or deployment history.", chart.Value);
    }

    [Fact]
    public void a_history_of_one_instant_still_draws_a_visible_bar()
    {
        var chart = Parse(DeploymentChart.Svg([Stage(1, "None", 0, null)], T0, "one instant"));
        var bar = Assert.Single(Bars(chart));
        Assert.True(Attr(bar, "width") >= 2);
        Assert.Matches(new Regex("^[0-9.]+$"), (string)bar.Attribute("x")!);
    }
}
