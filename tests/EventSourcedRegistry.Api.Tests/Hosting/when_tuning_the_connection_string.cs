using EventSourcedRegistry.Api.Hosting;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Hosting;

/// <summary>
/// Issue 13, item 1: Marten stamps events with <c>now() at time zone 'utc'</c> into a <c>timestamptz</c> column, which
/// PostgreSQL reads in the session's time zone; every registry session must therefore be in UTC, or each event's time
/// is stored shifted by the zone's offset and time travel by instant answers for another moment.
/// </summary>
public sealed class when_tuning_the_connection_string
{
    [Theory]
    [InlineData("Host=db;Username=registry")]
    [InlineData("Host=db;Username=registry;Timezone=Europe/Berlin")]
    [InlineData("Host=db;Username=registry;Timezone=America/Los_Angeles;Max Auto Prepare=0")]
    public void every_session_is_in_utc_whatever_the_string_says(string configured)
    {
        Assert.Equal("UTC", new NpgsqlConnectionStringBuilder(RegistryDatabase.Tune(configured)).Timezone);
    }

    [Fact]
    public void pool_settings_the_string_sets_are_kept()
    {
        var tuned = new NpgsqlConnectionStringBuilder(RegistryDatabase.Tune("Host=db;Max Auto Prepare=0;No Reset On Close=false"));
        Assert.Equal(0, tuned.MaxAutoPrepare);
        Assert.False(tuned.NoResetOnClose);
    }

    [Fact]
    public void statements_are_planned_for_their_bound_values_unless_the_string_says_otherwise()
    {
        // The event tables are partitioned per workspace (see when_statements_name_their_workspace_by_a_bound_value).
        Assert.Equal("-c plan_cache_mode=force_custom_plan", new NpgsqlConnectionStringBuilder(RegistryDatabase.Tune("Host=db")).Options);
        Assert.Equal("-c enable_seqscan=off -c plan_cache_mode=force_custom_plan",
            new NpgsqlConnectionStringBuilder(RegistryDatabase.Tune("Host=db;Options=-c enable_seqscan=off")).Options);
        Assert.Equal("-c plan_cache_mode=auto", new NpgsqlConnectionStringBuilder(RegistryDatabase.Tune("Host=db;Options=-c plan_cache_mode=auto")).Options);
    }
}
