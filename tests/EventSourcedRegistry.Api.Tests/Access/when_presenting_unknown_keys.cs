using EventSourcedRegistry.Store;
using System.Diagnostics;
using EventSourcedRegistry.Access;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Tests.Support;
using Marten;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Access;

/// <summary>
/// Issue 13, item 8 (part): on main every request with an unknown key read the key table, so a flood of random keys cost
/// one database read each. Unknown ids are now refused from an in-memory set of the active ids, read again at most once
/// per short TTL; a key made on another node is unknown here for at most that TTL.
/// </summary>
public sealed class when_presenting_unknown_keys(AppFixture app) : ApiTest(app)
{
    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.Parse("2026-06-01T09:00:00+00:00");
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static string RandomKey() => ApiKeys.NewKey().Key;

    /// <summary>A second ApiKeys over the same database, as another node of the cluster has, with its own clock.</summary>
    private ApiKeys Node(TimeProvider clock, int maxKnownIds = 100_000, string ttlSeconds = "2") =>
        new(Host.Services.GetRequiredService<NpgsqlDataSource>(), Store,
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [ApiKeys.UnknownKeySetting] = ttlSeconds }).Build(),
            clock, NullLogger<ApiKeys>.Instance) { MaxKnownIds = maxKnownIds };

    private static CommandContext Admin => new(AppFixture.AdminActor, Guid.NewGuid().ToString("N"), "test", null);
    private static readonly Principal AdminPrincipal = new(AppFixture.AdminActor, AppFixture.AdminActor, ApiKeys.BootstrapId, []);

    [Fact]
    public async Task a_flood_of_random_keys_costs_no_database_read_each()
    {
        var keys = Host.Services.GetRequiredService<ApiKeys>();
        using var warm = Host.ClientWithKey(RandomKey());
        (await warm.Send(HttpMethod.Get, "/api/v1/models")).AssertProblem(401);
        var before = keys.DatabaseReads;
        var clock = Stopwatch.StartNew();

        const int flood = 300;
        for (var i = 0; i < flood; i++)
        {
            using var client = Host.ClientWithKey(i % 2 == 0 ? RandomKey() : $"esr_{Guid.NewGuid():N}_x");
            (await client.Send(HttpMethod.Get, "/api/v1/models")).AssertProblem(401);
        }

        // At most one read of the id set per TTL that passed (the machine is shared: the loop may take a while).
        var reads = keys.DatabaseReads - before;
        var allowed = 1 + (long)(clock.Elapsed / keys.UnknownKeyTtl);
        Assert.True(reads <= allowed, $"{reads} reads of the key table for {flood} unknown keys in {clock.Elapsed} (TTL {keys.UnknownKeyTtl}); at most {allowed} expected");
        Assert.True(reads < flood / 10, $"{reads} reads for {flood} keys");
    }

    [Fact]
    public async Task a_key_made_on_another_node_is_unknown_here_for_at_most_the_short_ttl()
    {
        var clock = new ManualClock();
        var here = Node(clock);
        var elsewhere = Node(new ManualClock());
        Assert.Null(await here.Authenticate(RandomKey(), CancellationToken.None)); // reads the set of ids now
        var readsBefore = here.DatabaseReads;

        var (record, key) = (await elsewhere.Create(WorkspaceId.Default, $"made-elsewhere-{Guid.NewGuid():N}", "someone", [new Grant("reader")], AdminPrincipal, Admin,
            CancellationToken.None))!.Value;

        clock.Now += here.UnknownKeyTtl - TimeSpan.FromMilliseconds(1);
        Assert.Null(await here.Authenticate(key, CancellationToken.None));
        Assert.Equal(readsBefore, here.DatabaseReads);

        clock.Now += TimeSpan.FromMilliseconds(1);
        Assert.Equal(record.Id, (await here.Authenticate(key, CancellationToken.None))?.Id);
    }

    [Fact]
    public async Task a_key_made_or_revoked_on_this_node_counts_at_once()
    {
        var clock = new ManualClock();
        var here = Node(clock);
        Assert.Null(await here.Authenticate(RandomKey(), CancellationToken.None));

        var (record, key) = (await here.Create(WorkspaceId.Default, $"made-here-{Guid.NewGuid():N}", "someone", [new Grant("reader")], AdminPrincipal, Admin,
            CancellationToken.None))!.Value;
        Assert.Equal(record.Id, (await here.Authenticate(key, CancellationToken.None))?.Id);

        await here.Revoke(WorkspaceId.Default, record.Id, Admin, CancellationToken.None);
        Assert.Null(await here.Authenticate(key, CancellationToken.None));
    }

    [Fact]
    public async Task a_wrong_secret_for_a_known_key_is_refused_from_memory_too()
    {
        var here = Node(new ManualClock());
        var (_, key) = (await here.Create(WorkspaceId.Default, $"known-{Guid.NewGuid():N}", "someone", [new Grant("reader")], AdminPrincipal, Admin, CancellationToken.None))!.Value;
        Assert.NotNull(await here.Authenticate(key, CancellationToken.None));
        var reads = here.DatabaseReads;

        for (var i = 0; i < 50; i++)
            Assert.Null(await here.Authenticate(key[..^6] + Guid.NewGuid().ToString("N")[..6], CancellationToken.None));

        Assert.Equal(reads, here.DatabaseReads);
    }

    [Fact]
    public async Task a_ttl_of_zero_turns_the_set_off_and_every_unknown_key_is_read()
    {
        var here = Node(new ManualClock(), ttlSeconds: "0");
        var reads = here.DatabaseReads;

        for (var i = 0; i < 3; i++) Assert.Null(await here.Authenticate(RandomKey(), CancellationToken.None));

        Assert.Equal(reads + 3, here.DatabaseReads);
    }

    [Fact]
    public async Task the_set_of_ids_is_bounded_and_past_the_bound_unknown_keys_are_read_instead()
    {
        var here = Node(new ManualClock(), maxKnownIds: 1);
        await Host.CreateKey("reader");
        await Host.CreateKey("reader");
        Assert.Null(await here.Authenticate(RandomKey(), CancellationToken.None));
        var reads = here.DatabaseReads;

        Assert.Null(await here.Authenticate(RandomKey(), CancellationToken.None));
        Assert.Null(await here.Authenticate(RandomKey(), CancellationToken.None));

        // Too many active keys to hold: each unknown key is looked up (correct, only slower), none is wrongly refused.
        Assert.Equal(reads + 2, here.DatabaseReads);
    }
}
