using EventSourcedRegistry.Api.Audit.Checkpoints;

namespace EventSourcedRegistry.Tests.Audit;

/// <summary>Registry:Audit:CheckpointInterval as the cron schedule Wolverine's recurring messages run on.</summary>
public sealed class when_scheduling_checkpoint_signing
{
    [Theory]
    [InlineData("00:00:01", "* * * * * *")]
    [InlineData("00:00:15", "*/15 * * * * *")]
    [InlineData("00:05:00", "0 */5 * * * *")]
    [InlineData("01:00:00", "0 0 */1 * * *")]
    [InlineData("06:00:00", "0 0 */6 * * *")]
    [InlineData("1.00:00:00", "0 0 0 * * *")]
    public void an_interval_dividing_a_minute_an_hour_or_a_day_becomes_a_cron_schedule(string interval, string cron) =>
        Assert.Equal(cron, CheckpointSchedule.CronOf(TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:00:01")]
    public void zero_or_less_turns_periodic_signing_off(string interval) =>
        Assert.Null(CheckpointSchedule.CronOf(TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    [InlineData("00:00:07")]
    [InlineData("00:00:00.5")]
    [InlineData("00:07:00")]
    [InlineData("00:01:30")]
    [InlineData("05:00:00")]
    [InlineData("2.00:00:00")]
    public void an_interval_the_clock_cannot_repeat_evenly_is_refused_at_startup(string interval)
    {
        var refused = Assert.Throws<InvalidOperationException>(() =>
            CheckpointSchedule.CronOf(TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Contains("CheckpointInterval", refused.Message, StringComparison.Ordinal);
    }
}
