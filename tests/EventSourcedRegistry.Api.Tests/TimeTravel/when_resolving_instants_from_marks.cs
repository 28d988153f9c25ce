using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.TimeTravel;

/// <summary>
/// Issue 15 (the as-of registry page over a million events): resolving an instant reads the events since the nearest
/// settled-instant mark, not every event before or after it. These tests hold the marks to the answer of a read of all
/// history (<see cref="Settlement.SequenceAt"/>), and show that a mark is used, and that a mark whose event no longer
/// matches (a store emptied and written again) is not.
/// </summary>
public sealed class when_resolving_instants_from_marks(AppFixture app) : ApiTest(app)
{
    private const string Marks = "registry." + SettledInstants.Table;
    private NpgsqlDataSource Data => Host.Services.GetRequiredService<NpgsqlDataSource>();

    /// <summary>A few models with versions, then every event's instant, the instants between them and one before them all.</summary>
    private async Task<List<DateTimeOffset>> History()
    {
        for (var m = 0; m < 3; m++)
        {
            await Host.RegisterModel($"marks-{m}");
            for (var v = 0; v < 3; v++) await Host.RegisterVersion($"marks-{m}");
        }
        var stamps = (await App.SqlList<DateTime>(
                "select timestamp from registry.mt_events where tenant_id = 'default' and timestamp > '-infinity' order by timestamp"))
            .Select(t => new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc))).Distinct().ToList();
        Assert.True(stamps.Count >= 6, $"expected distinct event instants, got {stamps.Count}");
        var instants = new List<DateTimeOffset> { stamps[0] - TimeSpan.FromSeconds(1) };
        for (var i = 0; i < stamps.Count; i++)
        {
            instants.Add(stamps[i]);
            if (i + 1 < stamps.Count) instants.Add(Microseconds(stamps[i] + (stamps[i + 1] - stamps[i]) / 2));
        }
        await WaitUntilSettled(stamps[^1]);
        return instants;
    }

    /// <summary>PostgreSQL keeps microseconds.</summary>
    private static DateTimeOffset Microseconds(DateTimeOffset t) => new(t.Ticks - t.Ticks % 10, TimeSpan.Zero);

    /// <summary>Waits until no transaction that could still stamp an event at or before the instant is open.</summary>
    private async Task WaitUntilSettled(DateTimeOffset instant)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var probe = await Settlement.ProbeAsync(Data, RegistryStore.Schema, WorkspaceId.Default, CancellationToken.None);
            if (Settlement.OfInstant(instant, probe, TimeSpan.FromSeconds(1)) == Settled.Yes) return;
            Assert.True(DateTime.UtcNow < deadline, $"{instant:O} did not settle: {probe}");
            await Task.Delay(20);
        }
    }

    private Task<SettledInstants.Resolution> Resolve(DateTimeOffset instant) =>
        SettledInstants.ResolveAsync(Data, RegistryStore.Schema, WorkspaceId.Default, instant, CancellationToken.None);

    private Task<long> ReadAllHistory(DateTimeOffset instant) =>
        Settlement.SequenceAt(Data, RegistryStore.Schema, WorkspaceId.Default, instant, CancellationToken.None);

    [Fact]
    public async Task every_instant_resolves_as_a_read_of_all_history_does_in_any_order_of_asking()
    {
        var instants = await History();
        // Newest first, then the rest shuffled: the first resolution marks the newest instant, so every later one below
        // it starts from no mark or from a mark written on the way, and those above a mark read only the window.
        var order = instants.OrderByDescending(i => i).Take(1).Concat(instants.OrderBy(i => i.Ticks / 10 % 7).ThenBy(i => i)).ToList();
        var fromMark = 0;
        foreach (var instant in order)
        {
            var resolution = await Resolve(instant);
            Assert.Equal(await ReadAllHistory(instant), resolution.Sequence);
            if (resolution.From is not null) fromMark++;
            // And again, now that a mark may be there.
            Assert.Equal(resolution.Sequence, (await Resolve(instant)).Sequence);
        }
        Assert.True(fromMark > 0, "no resolution started from a mark");
        Assert.NotEmpty(await App.SqlList<long>($"select seq_id from {Marks} where tenant_id = 'default'"));
    }

    [Fact]
    public async Task asking_the_same_instant_again_starts_from_its_own_mark_and_writes_nothing()
    {
        var instants = await History();
        var last = instants[^1];

        var first = await Resolve(last);
        Assert.True(first.Marked);
        var again = await Resolve(last);

        Assert.Equal(last, again.From);
        Assert.Equal(first.Sequence, again.FromSequence);
        Assert.False(again.Marked);
        Assert.Equal(1L, (await App.SqlList<long>($"select count(*) from {Marks} where tenant_id = 'default'")).Single());
    }

    [Fact]
    public async Task a_long_unmarked_stretch_is_marked_along_its_length_each_mark_with_the_answer_at_its_instant()
    {
        // Spacing 3 stands for the default 2,000 events: the first resolution of the newest instant marks history as it goes.
        var instants = await History();
        var events = (await App.SqlList<long>("select count(*) from registry.mt_events where tenant_id = 'default' and timestamp > '-infinity'")).Single();

        var first = await SettledInstants.ResolveAsync(Data, RegistryStore.Schema, WorkspaceId.Default, instants[^1], CancellationToken.None, spacing: 3);

        Assert.Null(first.From);
        var marks = await App.SqlList<DateTime>($"select instant from {Marks} where tenant_id = 'default' order by instant");
        Assert.True(marks.Count >= events / 3, $"{marks.Count} marks for {events} events");
        foreach (var instant in marks)
        {
            var at = new DateTimeOffset(instant, TimeSpan.Zero);
            var recorded = (await App.SqlList<long>($"select seq_id from {Marks} where tenant_id = 'default' and instant = $1", at)).Single();
            Assert.Equal(await ReadAllHistory(at), recorded);
        }
        // Every instant now starts from a mark at most a few events back, and still answers as all of history does.
        foreach (var instant in instants.Where(i => i >= new DateTimeOffset(marks[0], TimeSpan.Zero)))
        {
            var resolution = await SettledInstants.ResolveAsync(Data, RegistryStore.Schema, WorkspaceId.Default, instant, CancellationToken.None, spacing: 3);
            Assert.NotNull(resolution.From);
            Assert.Equal(await ReadAllHistory(instant), resolution.Sequence);
        }
    }

    [Fact]
    public async Task a_mark_is_taken_as_the_answer_up_to_its_instant()
    {
        // Shown with a mark that records too low a sequence (its event and timestamp are real): the resolution trusts it
        // and reads only the events after the mark's instant. Marks are written only for settled instants, by the resolver.
        var instants = await History();
        var first = (await App.SqlList<long>("select min(seq_id) from registry.mt_events where tenant_id = 'default' and timestamp > '-infinity'")).Single();
        var middle = instants[instants.Count / 2];
        await App.Sql($"insert into {Marks} (tenant_id, instant, seq_id, seq_timestamp) " +
                      "select 'default', $1, seq_id, timestamp from registry.mt_events where tenant_id = 'default' and seq_id = $2", middle, first);

        var resolution = await Resolve(middle);

        Assert.Equal(first, resolution.Sequence);
        Assert.NotEqual(await ReadAllHistory(middle), resolution.Sequence);
    }

    [Fact]
    public async Task a_mark_whose_event_no_longer_matches_is_not_used_and_the_workspaces_marks_are_dropped()
    {
        // As after a store is emptied and written again: the mark's sequence now names an event stamped at another time.
        var instants = await History();
        var middle = instants[instants.Count / 2];
        var first = (await App.SqlList<long>("select min(seq_id) from registry.mt_events where tenant_id = 'default' and timestamp > '-infinity'")).Single();
        await App.Sql($"insert into {Marks} (tenant_id, instant, seq_id, seq_timestamp) values ('default', $1, $2, $3)",
            middle, first, middle - TimeSpan.FromDays(1));
        await App.Sql($"insert into {Marks} (tenant_id, instant, seq_id, seq_timestamp) values ('default', $1, $2, $3)",
            middle - TimeSpan.FromDays(2), first, middle - TimeSpan.FromDays(3));

        var resolution = await Resolve(middle);

        Assert.Equal(await ReadAllHistory(middle), resolution.Sequence);
        Assert.Null(resolution.From);
        // The forged marks are gone; the only one left is the resolution's own, with its real event.
        var left = await App.SqlList<DateTime>($"select instant from {Marks} where tenant_id = 'default'");
        Assert.Equal([middle.UtcDateTime], left);
    }

    [Fact]
    public async Task a_workspaces_marks_are_its_own()
    {
        var instants = await History();
        var last = instants[^1];
        await App.Sql($"insert into {Marks} (tenant_id, instant, seq_id, seq_timestamp) " +
                      "select 'another', $1, seq_id, timestamp from registry.mt_events where tenant_id = 'default' and seq_id = 1", last);

        var resolution = await Resolve(last);

        Assert.Null(resolution.From);
        Assert.Equal(await ReadAllHistory(last), resolution.Sequence);
    }
}
