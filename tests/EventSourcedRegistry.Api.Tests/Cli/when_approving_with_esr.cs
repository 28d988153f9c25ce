using Alba;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Cli;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Cli;

/// <summary>
/// Issue 19, item 2: on the host with default approvals (Production and champion protected), <c>esr stage … Production</c>
/// says what waits for whom and prints the command that approves it; <c>esr requests list|show|approve|reject</c> work the
/// requests (on main there were no such commands: approvers had to curl); <c>esr state</c> shows the pending ones.
/// </summary>
public sealed class when_approving_with_esr(AppFixture app) : ApiTest(app)
{
    private const string Model = "churn";
    private IAlbaHost _host = null!;
    private string _pipelineOwner = "";
    private Support.Access.CreatedKey _pipeline = null!;
    private Support.Access.CreatedKey _approver = null!;

    private IDocumentStore Governed => _host.Services.GetRequiredService<IDocumentStore>();

    /// <summary>esr with only <paramref name="key"/>, as a person or pipeline runs it with ESR_API_KEY.</summary>
    private Task<EsrRunner.Run> EsrAs(Support.Access.CreatedKey key, params string[] args) => EsrRunner.Esr(_host.AnonymousClient(), [.. args, "--api-key", key.Key]);

    private async Task Given()
    {
        _host = await App.GovernedHost();
        _pipelineOwner = $"training-{Guid.NewGuid():N}";
        _pipeline = await _host.CreateKeyFor(_pipelineOwner, ["contributor"]);
        _approver = await _host.CreateKeyFor($"alice-{Guid.NewGuid():N}@example.com", ["approver"]);
        await _host.RegisterModel(Model);
        await _host.RegisterVersion(Model, RegistryCalls.Sha256A);
    }

    private async Task<(EsrRunner.Run Run, Guid Id)> RequestProduction()
    {
        var run = await EsrAs(_pipeline, "stage", Model, "1", "Production", "--reason", "beats v0");
        var id = (await _host.Model(Model))["pendingRequests"]!.AsArray().Single()!["id"]!.GetValue<Guid>();
        return (run, id);
    }

    private async Task<string> StageOfV1() =>
        (await _host.Get($"/api/v1/models/{Model}/versions/1")).Body!["stage"]!.GetValue<string>();

    [Fact]
    public async Task a_protected_promotion_exits_5_and_prints_the_request_who_approves_and_the_command_that_approves_it()
    {
        await Given();
        var (run, id) = await RequestProduction();

        Assert.True(run.ExitCode == ExitCodes.AwaitingApproval, run.ToString());
        Assert.Contains("Waiting for approval: churn v1 → Production", run.Out);
        Assert.Contains($"Request {id}", run.Out);
        Assert.Contains("approver role", run.Out);
        Assert.Contains($"whose owner is not {_pipelineOwner}", run.Out);
        Assert.Equal("None", await StageOfV1());

        // The command as printed, run verbatim by the approver, is what moves the version.
        var command = run.Out.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("esr requests approve ", StringComparison.Ordinal));
        Assert.Equal($"esr requests approve {Model} {id}", command);
        var approved = await EsrAs(_approver, command.Split(' ')[1..]);
        Assert.True(approved.ExitCode == 0, approved.ToString());
        Assert.Contains("Approved", approved.Console);
        Assert.Equal("Production", await StageOfV1());
    }

    [Fact]
    public async Task a_protected_promotion_in_json_is_the_request_and_still_exits_5()
    {
        await Given();
        var run = await EsrAs(_pipeline, "stage", Model, "1", "Production", "-o", "json");
        Assert.Equal(ExitCodes.AwaitingApproval, run.ExitCode);
        Assert.Equal("pending", run.Json.GetProperty("state").GetString());
        Assert.Equal("Production", run.Json.GetProperty("target").GetString());

        var alias = await EsrAs(_pipeline, "alias", "set", Model, "champion", "1");
        Assert.Equal(ExitCodes.AwaitingApproval, alias.ExitCode);
        Assert.Contains("churn@champion → v1", alias.Out);
    }

    [Fact]
    public async Task state_shows_the_pending_requests_and_requests_list_and_show_describe_them()
    {
        await Given();
        var (_, id) = await RequestProduction();

        var state = await EsrAs(_approver, "state", Model);
        Assert.True(state.ExitCode == 0, state.ToString());
        Assert.Contains("Waiting for approval", state.Console);
        Assert.Contains(id.ToString(), state.Console);
        Assert.Contains("churn v1 → Production", state.Console);
        var stateJson = await EsrAs(_approver, "state", Model, "-o", "json");
        Assert.Equal(id, stateJson.Json.GetProperty("pendingRequests")[0].GetProperty("id").GetGuid());
        Assert.Equal("Production", stateJson.Json.GetProperty("pendingRequests")[0].GetProperty("target").GetString());

        var list = await EsrAs(_approver, "requests", "list", Model);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains(id.ToString(), list.Console);
        Assert.Contains("0 of 1", list.Console);
        var listJson = await EsrAs(_approver, "requests", "list", Model, "--state", "pending", "-o", "json");
        Assert.Equal(Model, listJson.Json.GetProperty("model").GetString());
        Assert.Equal(id, listJson.Json.GetProperty("items").EnumerateArray().Single().GetProperty("id").GetGuid());
        Assert.Equal(0, (await EsrAs(_approver, "requests", "list", Model, "--state", "rejected", "-o", "json")).Json.GetProperty("items").GetArrayLength());

        var show = await EsrAs(_approver, "requests", "show", Model, id.ToString());
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("pending", show.Console);
        Assert.Contains(RegistryCalls.Sha256A, show.Console);
        Assert.Contains($"esr requests approve {Model} {id}", show.Console);
        Assert.Equal("pending", (await EsrAs(_approver, "requests", "show", Model, id.ToString(), "-o", "json")).Json.GetProperty("state").GetString());
    }

    [Fact]
    public async Task requests_list_without_a_model_lists_what_waits_across_models()
    {
        await Given();
        var (_, id) = await RequestProduction();
        await _host.RegisterModel("fraud");
        await _host.RegisterVersion("fraud", RegistryCalls.Sha256B);
        Assert.Equal(ExitCodes.AwaitingApproval, (await EsrAs(_pipeline, "alias", "set", "fraud", "champion", "1")).ExitCode);
        await _host.RegisterModel("quiet");

        var all = await EsrAs(_approver, "requests", "list", "-o", "json");
        Assert.True(all.ExitCode == 0, all.ToString());
        var items = all.Json.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["churn", "fraud"], items.Select(i => i.GetProperty("model").GetString()).Order());
        Assert.Contains(items, i => i.GetProperty("id").GetGuid() == id);
        Assert.Contains("fraud@champion → v1", (await EsrAs(_approver, "requests", "list")).Console);

        // Closed requests are kept per model: across models only pending ones can be listed, and esr says so.
        var rejected = await EsrAs(_approver, "requests", "list", "--state", "rejected");
        Assert.Equal(ExitCodes.Usage, rejected.ExitCode);
        Assert.Contains("esr requests list <model> --state rejected", rejected.Error);
    }

    [Fact]
    public async Task a_contributor_key_cannot_approve_and_is_told_which_role_it_lacks()
    {
        await Given();
        var (_, id) = await RequestProduction();
        var before = await Governed.StreamLength(Model);

        var refused = await EsrAs(_pipeline, "requests", "approve", Model, id.ToString());
        Assert.Equal(ExitCodes.Failed, refused.ExitCode);
        Assert.Contains("403 Forbidden", refused.Error);
        Assert.Contains("lacks the role this call needs (approver", refused.Error);
        Assert.Contains("--grant <role>", refused.Error);
        Assert.Equal(before, await Governed.StreamLength(Model));
        Assert.Equal("None", await StageOfV1());
    }

    [Fact]
    public async Task approving_a_request_of_ones_own_owner_shows_the_registrys_refusal()
    {
        await Given();
        var owner = $"bob-{Guid.NewGuid():N}@example.com";
        var bobsPipeline = await _host.CreateKeyFor(owner, ["contributor"]);
        var bobsApproverKey = await _host.CreateKeyFor(owner, ["approver"]);
        Assert.Equal(ExitCodes.AwaitingApproval, (await EsrAs(bobsPipeline, "stage", Model, "1", "Production")).ExitCode);
        var id = (await _host.Model(Model))["pendingRequests"]!.AsArray().Single()!["id"]!.GetValue<Guid>();
        var before = await Governed.StreamLength(Model);

        var refused = await EsrAs(bobsApproverKey, "requests", "approve", Model, id.ToString(), "--reason", "mine");
        Assert.Equal(ExitCodes.Conflict, refused.ExitCode);
        Assert.Contains("409", refused.Error);
        Assert.Contains("cannot approve", refused.Error);
        Assert.Equal(before, await Governed.StreamLength(Model));
        Assert.Equal("None", await StageOfV1());
    }

    [Fact]
    public async Task an_approver_rejects_with_a_reason_and_a_closed_request_cannot_be_approved()
    {
        await Given();
        var (_, id) = await RequestProduction();

        var noReason = await EsrAs(_approver, "requests", "reject", Model, id.ToString());
        Assert.Equal(ExitCodes.Usage, noReason.ExitCode);
        Assert.Contains("--reason", noReason.Error);

        var rejected = await EsrAs(_approver, "requests", "reject", Model, id.ToString(), "--reason", "recall dropped");
        Assert.True(rejected.ExitCode == 0, rejected.ToString());
        Assert.Contains("Rejected", rejected.Console);
        Assert.Contains("recall dropped", rejected.Console);
        Assert.Equal("rejected", (await EsrAs(_approver, "requests", "show", Model, id.ToString(), "-o", "json")).Json.GetProperty("state").GetString());
        Assert.Single((await EsrAs(_approver, "requests", "list", Model, "--state", "rejected", "-o", "json")).Json.GetProperty("items").EnumerateArray());

        var late = await EsrAs(_approver, "requests", "approve", Model, id.ToString());
        Assert.Equal(ExitCodes.Conflict, late.ExitCode);
        Assert.Equal("None", await StageOfV1());
    }

    [Fact]
    public async Task an_approver_of_another_model_learns_nothing_and_bad_ids_are_usage_errors()
    {
        await Given();
        var (_, id) = await RequestProduction();
        await _host.RegisterModel("other-model");
        var outsider = await _host.CreateKeyFor(null, ["approver:other-model"]);

        foreach (var args in new[]
                 {
                     new[] { "requests", "approve", Model, id.ToString() },
                     ["requests", "show", Model, id.ToString()],
                     ["requests", "list", Model],
                 })
        {
            var run = await EsrAs(outsider, args);
            Assert.True(run.ExitCode == ExitCodes.NotFound, $"{string.Join(' ', args)}: {run}");
            Assert.Contains("No model", run.Error);
            Assert.DoesNotContain(id.ToString(), run.Error + run.Out + run.Console);
        }
        // Across models needs the role registry-wide (the model list): a scoped key is told so, and learns no name.
        var across = await EsrAs(outsider, "requests", "list");
        Assert.Contains("403", across.Error);
        Assert.DoesNotContain(Model, across.Error + across.Out + across.Console);

        Assert.Equal(ExitCodes.Usage, (await EsrAs(_approver, "requests", "approve", Model, "not-a-guid")).ExitCode);
        Assert.Equal(ExitCodes.NotFound, (await EsrAs(_approver, "requests", "approve", Model, Guid.NewGuid().ToString())).ExitCode);
        Assert.Equal("None", await StageOfV1());
    }
}
