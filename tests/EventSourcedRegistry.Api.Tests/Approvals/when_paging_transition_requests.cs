using System.Text.Json.Nodes;
using Alba;
using EventSourcedRegistry.Api.Tests.Support;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Approvals;

/// <summary>
/// Issue 13, item 8: <c>/models/{name}/requests</c> is paged (<c>cursor</c>, <c>limit</c>), so a model with many
/// requests is not answered in one unbounded response. On main every request came back at once.
/// </summary>
public sealed class when_paging_transition_requests(AppFixture app) : ApiTest(app)
{
    private const string Name = "fraud-scorer";
    private const int Requests = 7;

    /// <summary>Seven Production requests (each superseding the one before), and the last one rejected.</summary>
    private async Task<(IAlbaHost Host, List<string> NewestFirst)> Requested()
    {
        var host = await App.GovernedHost();
        await host.RegisterModel(Name);
        await host.RegisterModel("other");
        var ids = new List<string>();
        for (var i = 1; i <= Requests; i++)
        {
            await host.RegisterVersion(Name);
            ids.Add((await host.Promote(Name, i, "Production", reason: $"try {i}").Ok(202)).Body!["id"]!.GetValue<string>());
        }
        await host.Post($"/api/v1/models/{Name}/requests/{ids[^1]}/reject", new { reason = "Not yet." }).Ok();
        ids.Reverse();
        return (host, ids);
    }

    private static async Task<List<string>> Walk(IAlbaHost host, string query, int limit)
    {
        var seen = new List<string>();
        string? cursor = null;
        for (var page = 0; page < 20; page++)
        {
            var url = $"/api/v1/models/{Name}/requests?limit={limit}{query}" + (cursor is null ? "" : $"&cursor={cursor}");
            var body = (await host.Get(url).Ok()).Body!;
            var items = body["items"]!.AsArray();
            Assert.True(items.Count <= limit, $"a page of {items.Count} for limit {limit}");
            seen.AddRange(items.Select(i => i!["id"]!.GetValue<string>()));
            cursor = body["nextCursor"]?.GetValue<string>();
            if (cursor is null) return seen;
            Assert.Equal(limit, items.Count);
        }
        throw new InvalidOperationException("paging did not end");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(500)]
    public async Task pages_of_any_size_give_every_request_once_newest_first(int limit)
    {
        var (host, newestFirst) = await Requested();

        Assert.Equal(newestFirst, await Walk(host, "", limit));
    }

    [Fact]
    public async Task a_state_filter_pages_over_the_matching_requests_only()
    {
        var (host, newestFirst) = await Requested();

        Assert.Equal(newestFirst.Skip(1), await Walk(host, "&state=superseded", 2));
        Assert.Equal([newestFirst[0]], await Walk(host, "&state=rejected", 2));
        Assert.Empty(await Walk(host, "&state=pending", 2));
    }

    [Fact]
    public async Task without_a_limit_a_page_holds_at_most_the_default()
    {
        var (host, newestFirst) = await Requested();

        var body = (await host.Get($"/api/v1/models/{Name}/requests").Ok()).Body!;

        Assert.Equal(newestFirst, body["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()));
        Assert.Null(body["nextCursor"]);
        Assert.Equal(100, EventSourcedRegistry.Api.Approvals.ListTransitionRequestsEndpoint.DefaultLimit);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=501", "limit")]
    [InlineData("limit=-1", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("cursor=cDA", "cursor")]                       // position 0
    [InlineData("cursor=cC0x", "cursor")]                      // position -1
    [InlineData("cursor=Li4vLi4vZXRjL3Bhc3N3ZA", "cursor")]    // ../../etc/passwd
    [InlineData("cursor=%27%20or%201%3D1--", "cursor")]
    public async Task a_malformed_limit_or_cursor_is_400_and_appends_nothing(string query, string field)
    {
        var (host, _) = await Requested();
        var store = host.Services.GetRequiredService<IDocumentStore>();
        var before = await store.TotalEvents();

        (await host.Get($"/api/v1/models/{Name}/requests?{query}")).AssertProblem(400, field);
        (await host.Get($"/api/v1/models/{Name}/requests?{query}&cursor=x{new string('A', 5000)}")).AssertProblem(400);

        Assert.Equal(before, await store.TotalEvents());
    }

    [Fact]
    public async Task a_cursor_past_the_oldest_request_gives_an_empty_page()
    {
        var (host, _) = await Requested();
        var cursor = Convert.ToBase64String("p1"u8.ToArray()).TrimEnd('=');

        var body = (await host.Get($"/api/v1/models/{Name}/requests?cursor={cursor}").Ok()).Body!;

        Assert.Empty(body["items"]!.AsArray());
        Assert.Null(body["nextCursor"]);
    }

    [Fact]
    public async Task a_caller_without_a_role_on_the_model_is_404_as_for_an_unknown_model_and_a_reader_pages()
    {
        var (host, newestFirst) = await Requested();
        using var nobody = host.ClientWithToken(Support.Access.Token("nobody", []));
        using var otherReader = host.ClientWithToken(Support.Access.Token("other-reader", ["reader:other"]));
        using var reader = host.ClientWithToken(Support.Access.Token("fraud-reader", ["reader:fraud-scorer"]));

        // Without the reader role on the model (no role at all, or a role on another model) the model does not exist.
        var unknown = (await otherReader.Send(HttpMethod.Get, "/api/v1/models/no-such-model/requests?limit=2")).AssertProblem(404);
        foreach (var caller in new[] { nobody, otherReader })
        {
            var hidden = (await caller.Send(HttpMethod.Get, $"/api/v1/models/{Name}/requests?limit=2&cursor=cDM")).AssertProblem(404);
            Assert.Equal(unknown["title"]!.GetValue<string>(), hidden["title"]!.GetValue<string>());
            Assert.Equal(unknown["detail"]!.GetValue<string>().Replace("no-such-model", Name), hidden["detail"]!.GetValue<string>());
            Assert.DoesNotContain("items", hidden.ToJsonString());
        }

        var page = (await reader.Send(HttpMethod.Get, $"/api/v1/models/{Name}/requests?limit=2")).Body!;
        Assert.Equal(newestFirst.Take(2), page["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()));
    }
}
