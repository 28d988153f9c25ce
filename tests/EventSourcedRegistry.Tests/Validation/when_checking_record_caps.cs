using EventSourcedRegistry.Validation;

namespace EventSourcedRegistry.Tests.Validation;

public class when_checking_record_caps
{
    private static Dictionary<string, string> Tags(int count, string prefix = "t") =>
        Enumerable.Range(0, count).ToDictionary(i => $"{prefix}{i}", _ => "v");

    [Fact]
    public void a_version_at_every_cap_passes_and_one_past_any_cap_is_refused_naming_it()
    {
        var limits = new RecordLimits();

        Assert.Empty(limits.CheckVersion(100, 1000, 1000, 100));
        var errors = limits.CheckVersion(101, 1001, 1001, 101).ToList();

        Assert.Equal(["tags", "params", "metrics", "lineage.datasets"], errors.Select(e => e.Field));
        Assert.Contains("Registry:Limits:MaxTagsPerVersion", errors[0].Error);
        Assert.Contains("Registry:Limits:MaxParamsPerVersion", errors[1].Error);
        Assert.Contains("Registry:Limits:MaxMetricsPerVersion", errors[2].Error);
        Assert.Contains("Registry:Limits:MaxDatasetsPerVersion", errors[3].Error);
    }

    [Fact]
    public void an_edit_counts_the_tags_it_leaves_not_the_tags_it_sends()
    {
        var current = Tags(99);

        // Overwriting existing tags adds none.
        Assert.Null(RecordLimits.CheckEditedTags(current, Tags(99), null, 100, "MaxTagsPerModel", "a model"));
        Assert.Null(RecordLimits.CheckEditedTags(current, Tags(1, "new"), null, 100, "MaxTagsPerModel", "a model"));
        Assert.NotNull(RecordLimits.CheckEditedTags(current, Tags(2, "new"), null, 100, "MaxTagsPerModel", "a model"));
        // Removing one makes room for one.
        Assert.Null(RecordLimits.CheckEditedTags(current, Tags(2, "new"), ["t0"], 100, "MaxTagsPerModel", "a model"));
    }

    [Fact]
    public void a_record_over_a_lowered_cap_may_still_shed_tags_but_not_gain_any()
    {
        var current = Tags(10);

        Assert.Null(RecordLimits.CheckEditedTags(current, null, ["t0"], 5, "MaxTagsPerVersion", "a version"));
        Assert.Null(RecordLimits.CheckEditedTags(current, new Dictionary<string, string> { ["t1"] = "changed" }, null, 5, "MaxTagsPerVersion", "a version"));
        var refused = RecordLimits.CheckEditedTags(current, Tags(1, "new"), null, 5, "MaxTagsPerVersion", "a version");
        Assert.Contains("Registry:Limits:MaxTagsPerVersion", refused!.Value.Error);
        Assert.Equal("setTags", refused.Value.Field);
    }

    [Fact]
    public void a_cap_below_one_stops_the_app_naming_the_setting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new RecordLimits { MaxParamsPerVersion = 0 }.Validate());
        Assert.Contains("Registry:Limits:MaxParamsPerVersion", error.Message);
    }
}
