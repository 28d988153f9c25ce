using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Store;
using JasperFx.Events;
using Marten;
using Marten.Exceptions;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// One store, many workspaces (docs/design/workspaces.md §3.1–3.4): each is a Marten tenant with its own event partition,
/// sequence, views and high-water mark, so the same model name lives in two workspaces as two models, and a session that
/// names no workspace sees and writes nothing.
/// </summary>
public sealed class when_workspaces_share_one_store(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task two_workspaces_hold_the_same_model_name_as_separate_models_with_their_own_sequences()
    {
        var team = await App.NewWorkspace();

        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        var inTeam = await Host.PostIn(team, "/api/v1/models", new { name = "churn", description = "the team's" });
        Assert.Equal(201, inTeam.Status);

        var mine = await Host.Model("churn");
        var theirs = (await Host.GetIn(team, "/api/v1/models/churn")).Body!;
        Assert.NotEqual(mine["id"]!.GetValue<Guid>(), theirs["id"]!.GetValue<Guid>());
        Assert.Equal("the team's", theirs["description"]!.GetValue<string>());
        Assert.Null(mine["description"]);
        // Each workspace counts its own events from 1: the team's one event is its sequence 1, whatever default holds.
        Assert.Equal([1, 2], await App.SequencesIn(WorkspaceId.Default));
        Assert.Equal([1], await App.SequencesIn(team));
        var teamList = (await Host.GetIn(team, "/api/v1/models")).Body!["items"]!.AsArray();
        Assert.Equal(["churn"], teamList.Select(m => m!["name"]!.GetValue<string>()));
        Assert.Empty((await Host.GetIn(team, "/api/v1/models/churn/versions")).Body!["items"]!.AsArray());

        // The team's stream has its own versions: a stale guard written against default's stream is refused there.
        await using var session = new Api.Workspaces.WorkspaceStore(Store, team).QuerySession();
        var teamId = theirs["id"]!.GetValue<Guid>();
        Assert.Equal(1, (await session.Events.FetchStreamStateAsync(teamId))!.Version);
        Assert.Null(await session.Events.FetchStreamStateAsync(mine["id"]!.GetValue<Guid>()));
    }

    [Fact]
    public async Task a_point_in_history_is_answered_from_the_workspace_that_asks()
    {
        var team = await App.NewWorkspace();
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.RegisterVersion("churn");
        Assert.Equal(201, (await Host.PostIn(team, "/api/v1/models", new { name = "churn", description = "the team's" })).Status);
        await App.WaitForHighWaterMark();
        await App.WaitForHighWaterMark(team);

        // Sequence 1 is the registration in both workspaces, of two different models.
        var mineThen = await Host.Get("/api/v1/models/churn?atSequence=1");
        var theirsThen = await Host.GetIn(team, "/api/v1/models/churn?atSequence=1");
        Assert.Equal(200, mineThen.Status);
        Assert.Equal(200, theirsThen.Status);
        Assert.NotEqual(mineThen.Body!["id"]!.GetValue<Guid>(), theirsThen.Body!["id"]!.GetValue<Guid>());
        Assert.Equal("the team's", theirsThen.Body!["description"]!.GetValue<string>());
        // Default's sequence 3 does not exist in the team: it is in the future there, not someone else's past.
        Assert.Equal(200, (await Host.Get("/api/v1/models/churn?atSequence=3")).Status);
        Assert.Equal(409, (await Host.GetIn(team, "/api/v1/models/churn?atSequence=3")).Status);
        Assert.Equal(2, (await Host.Get("/api/v1/models/churn/versions?atSequence=3")).Body!["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task a_session_opened_without_a_workspace_reads_nothing_and_cannot_append()
    {
        await Host.RegisterModel("churn");

        // Marten's *DEFAULT* tenant has no partition: nothing of any workspace is visible to it, and an append fails.
        await using (var query = Store.QuerySession())
        {
            Assert.Equal(0, await query.Events.QueryAllRawEvents().CountAsync());
            Assert.Equal(0, await query.Query<ModelView>().CountAsync());
        }
        await using (var session = Store.LightweightSession())
        {
            session.Events.StartStream(Guid.NewGuid(), new ModelRegistered(Guid.NewGuid(), "orphan", null, new Dictionary<string, string>()));
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => session.SaveChangesAsync());
            Assert.Contains("MT002", refused.ToString());
        }
        Assert.Equal(1, await Store.TotalEvents());
    }

    [Fact]
    public async Task a_workspace_is_registered_once_with_a_numbered_partition_and_its_own_sequence()
    {
        var first = await App.NewWorkspace();
        await using var data = NpgsqlDataSource.Create(App.ConnectionString);
        var suffix = await WorkspacePartitions.SuffixAsync(data, first, CancellationToken.None);

        Assert.Matches("^ws_[0-9]+$", suffix);
        Assert.Equal(suffix, await WorkspacePartitions.AddAsync(Store, first, CancellationToken.None));
        var second = await App.NewWorkspace();
        var next = await WorkspacePartitions.SuffixAsync(data, second, CancellationToken.None);
        Assert.True(int.Parse(next![3..]) > int.Parse(suffix![3..]), $"{next} follows {suffix}");
        Assert.Equal(WorkspacePartitions.DefaultSuffix, await WorkspacePartitions.SuffixAsync(data, WorkspaceId.Default, CancellationToken.None));
        Assert.Equal(WorkspacePartitions.PlatformSuffix, await WorkspacePartitions.SuffixAsync(data, WorkspaceId.Platform, CancellationToken.None));

        // The event-gap guard finds a workspace's sequence from its partition's name (§8.2): for every registered workspace
        // that is the partition holding its tenant id, and the sequence exists.
        var rows = await App.SqlList<string>(
            """
            select p.partition_value || '|' || coalesce(pg_get_expr(c.relpartbound, c.oid), 'none') || '|' ||
                   (to_regclass('registry.mt_events_sequence_' || p.partition_suffix) is not null)::text
            from registry.mt_tenant_partitions p
            left join pg_class c on c.relname = 'mt_events_' || p.partition_suffix
              and c.relnamespace = 'registry'::regnamespace
            """);
        Assert.Contains($"{first.TenantId}|FOR VALUES IN ('{first.TenantId}')|true", rows);
        Assert.Contains("default|FOR VALUES IN ('default')|true", rows);
        Assert.Contains("~platform|FOR VALUES IN ('~platform')|true", rows);
        Assert.All(rows, row => Assert.EndsWith("|true", row));
    }

    /// <summary>
    /// Guards docs/design/workspaces.md §5 #1: Marten's upsert of an inline single-stream view read its revision from
    /// mt_streams with a subquery PostgreSQL cannot prune by workspace (≈ 90 ms per command at 1,000 workspaces). The
    /// registry switches the lookup off for the views that set their revision from the event, and their revision must
    /// still follow the stream.
    /// </summary>
    [Fact]
    public async Task the_views_are_upserted_without_the_stream_lookup_and_keep_their_stream_revision()
    {
        foreach (var type in RegistryStore.StreamVersionedViews)
            Assert.False(RegistryStore.ReadsRevisionFromStream(Store, type), $"{type.Name} reads its revision from mt_streams again");
        Assert.Equal([typeof(ModelView), typeof(RegistrySettings), typeof(TransitionRequestsView)], RegistryStore.StreamVersionedViews);

        var team = await App.NewWorkspace();
        Assert.Equal(201, (await Host.PostIn(team, "/api/v1/models", new { name = "churn" })).Status);
        for (var i = 0; i < 3; i++)
            Assert.Equal(201, (await Host.PostIn(team, "/api/v1/models/churn/versions",
                new { artifact = new { uri = $"s3://m/{i}.onnx", sha256 = RegistryCalls.Sha256A, sizeBytes = 1 } })).Status);

        await using var session = new Api.Workspaces.WorkspaceStore(Store, team).QuerySession();
        var view = await session.Query<ModelView>().SingleAsync();
        Assert.Equal(4, view.Revision);
        Assert.Equal(4, (await session.Events.FetchStreamStateAsync(view.Id))!.Version);
        Assert.Equal(4L, (await App.SqlList<long>("select mt_version::bigint from registry.mt_doc_modelview where tenant_id = $1", team.TenantId)).Single());
    }
}
