using EventSourcedRegistry.Api.Artifacts.Orphans;

namespace EventSourcedRegistry.Api.Tests.Artifacts;

public class when_parsing_an_orphan_grace_period
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("0s", 0)]
    [InlineData("90s", 90)]
    [InlineData("15m", 900)]
    [InlineData("24h", 86_400)]
    [InlineData("7d", 604_800)]
    [InlineData("1d12h", 129_600)]
    [InlineData("PT24H", 86_400)]
    [InlineData("P1DT30M", 88_200)]
    public void short_and_iso_8601_durations_are_understood(string raw, int seconds)
    {
        Assert.True(OrphanArtifacts.TryParseDuration(raw, out var duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData("-1h")]
    [InlineData("1h30")]
    [InlineData("h")]
    [InlineData("1w")]
    [InlineData("-PT1H")]
    [InlineData("PT")]
    [InlineData("99999999999999999999d")]
    public void anything_else_is_refused(string raw)
    {
        Assert.False(OrphanArtifacts.TryParseDuration(raw, out _));
    }
}
