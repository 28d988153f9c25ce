using System.ComponentModel;
using System.Globalization;
using System.Text;
using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts.V1;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EventSourcedRegistry.Cli.Commands;

public sealed class ListRequestsSettings : ListSettings
{
    [CommandArgument(0, "[model]")]
    [Description("The model's name; without it, the requests pending on every model.")]
    public string? Model { get; init; }

    [CommandOption("--state <STATE>")]
    [Description("pending, approved, rejected or superseded (default: every state for a model, pending across models).")]
    public string? State { get; init; }
}

/// <summary>
/// A model's transition requests, newest first; without a model, what waits for approval across the registry: the model
/// list says which models have pending requests (the model view holds them), and each of those is asked for its own.
/// </summary>
public sealed class ListRequestsCommand(CliEnvironment env) : RegistryCommand<ListRequestsSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, ListRequestsSettings s, CancellationToken ct)
    {
        if (s.Model is { } model)
        {
            var (items, first, next) = await ReadPages(s, 500, (cursor, limit) => client.ListRequestsAsync(model, s.State, cursor, limit, ct),
                p => p.Items, p => p.NextCursor);
            return Show(s, first with { Items = items, NextCursor = next }, list => Render(list.Items, list.NextCursor, "No requests."));
        }
        else
        {
            // Only the model views say what is pending across models; closed requests are kept per model only.
            if (s.State is { } state && !state.Equals("pending", StringComparison.OrdinalIgnoreCase))
                throw new UsageException($"Requests in state '{state}' are listed per model: esr requests list <model> --state {state}. " +
                                         "Across models only pending ones are (the audit log has every closed one: esr audit --type TransitionRejected).");
            if (s.Limit is not null || s.Cursor is not null)
                throw new UsageException("--limit and --cursor page one model's requests: give the model.");
            var items = new List<TransitionRequestInfo>();
            string? cursor = null;
            do
            {
                var page = await client.ListModelsAsync(new ModelQuery(Cursor: cursor, Limit: 500), ct);
                foreach (var m in page.Items.Where(m => m.PendingRequests is { Count: > 0 }))
                {
                    string? requests = null;
                    do
                    {
                        var pending = await client.ListRequestsAsync(m.Name, "pending", requests, 500, ct);
                        items.AddRange(pending.Items);
                        requests = pending.NextCursor;
                    } while (requests is not null);
                }
                cursor = page.NextCursor;
            } while (cursor is not null);
            return Show(s, new PendingAcrossModels([.. items.OrderByDescending(r => r.RequestedAt)]),
                list => Render(list.Items, null, "Nothing waits for approval."));
        }
    }

    /// <summary>The answer across models: the API's list envelope, without a model (and never a next page).</summary>
    public sealed record PendingAcrossModels(IReadOnlyList<TransitionRequestInfo> Items, string? NextCursor = null);

    private void Render(IReadOnlyList<TransitionRequestInfo> items, string? nextCursor, string none)
    {
        if (items.Count == 0)
        {
            Console.MarkupLine(none);
            return;
        }
        var table = NewTable("Request", "Move", "State", "Approvals", "Requested by", "At", "Reason");
        foreach (var r in items)
            table.AddRow(Text(r.Id), Text(Requests.Move(r)), Text(r.State),
                Text(r.State == "pending" ? $"{r.ApprovalsValid} of {r.ApprovalsRequired}" : $"{r.Approvals.Count} given"),
                Text(Requests.Requester(r)), Text(r.RequestedAt), Text(r.Reason));
        Console.Write(table);
        More(nextCursor);
    }
}

public class RequestSettings : ModelSettings
{
    [CommandArgument(1, "<id>")]
    [Description("The request's id, as esr stage printed it or esr requests list shows it.")]
    public string Id { get; init; } = "";

    public Guid RequestId => Guid.TryParse(Id, out var id)
        ? id
        : throw new UsageException($"'{Id}' is not a request id; request ids are GUIDs as esr requests list shows them.");
}

public sealed class ShowRequestCommand(CliEnvironment env) : RegistryCommand<RequestSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, RequestSettings s, CancellationToken ct) =>
        Show(s, await client.GetRequestAsync(s.Model, s.RequestId, ct), r =>
        {
            Render(r);
            if (r.State != "pending") return;
            Console.WriteLine();
            Console.MarkupLine($"Approve: esr requests approve {Text(r.Model)} {r.Id} --reason \"…\"");
            Console.MarkupLine($"Reject:  esr requests reject {Text(r.Model)} {r.Id} --reason \"…\"");
        });

    private void Render(TransitionRequestInfo r)
    {
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("[bold]request[/]", Text(r.Id));
        grid.AddRow("[bold]move[/]", Text(Requests.Move(r)));
        grid.AddRow("state", Text(r.State));
        if (r.ArchiveExisting) grid.AddRow("archive existing", "yes");
        grid.AddRow("sha256", Text(r.Sha256));
        grid.AddRow("requested by", Text(Requests.Requester(r)));
        grid.AddRow("requested at", Text(r.RequestedAt));
        grid.AddRow("reason", Text(r.Reason));
        grid.AddRow("approvals", Text(r.State == "pending" ? $"{r.ApprovalsValid} of {r.ApprovalsRequired} count" : $"{r.Approvals.Count} given"));
        if (r.ClosedAt is { } closed)
            grid.AddRow("closed", Text($"{closed.ToString("u", CultureInfo.InvariantCulture)} by {r.ClosedBy ?? "another move"}"
                                       + (r.ClosedReason is null ? "" : $": {r.ClosedReason}")));
        Console.Write(grid);
        if (r.Approvals.Count == 0) return;
        var table = NewTable("Approver", "Owner", "At", "Expires", "Reason");
        foreach (var a in r.Approvals)
            table.AddRow(Text(a.Approver), Text(a.ApproverOwner), Text(a.ApprovedAt), Text(a.ExpiresAt), Text(a.Reason));
        Console.Write(table);
    }
}

public sealed class ApproveRequestSettings : RequestSettings
{
    [CommandOption("--reason <TEXT>")]
    [Description("Why you approve (recorded with the approval).")]
    public string? Reason { get; init; }

    [CommandOption("--sha256 <HEX>")]
    [Description("The artifact digest you reviewed; the approval is refused if the version's is another.")]
    public string? Sha256 { get; init; }
}

public sealed class ApproveRequestCommand(CliEnvironment env) : RegistryCommand<ApproveRequestSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, ApproveRequestSettings s, CancellationToken ct) =>
        Show(s, await client.ApproveRequestAsync(s.Model, s.RequestId, s.Sha256, s.Reason, ct), r => Console.MarkupLine(r.State == "approved"
            ? $"[green]Approved[/]: {Text(Requests.Move(r))} is done (request {r.Id})."
            : $"Approval recorded: {r.ApprovalsValid} of {r.ApprovalsRequired} count; request {r.Id} stays {Text(r.State)}."));
}

public sealed class RejectRequestSettings : RequestSettings
{
    [CommandOption("--reason <TEXT>")]
    [Description("Why (required; recorded with the rejection). The requester rejects their own request to withdraw it.")]
    public string Reason { get; init; } = "";

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Reason) ? ValidationResult.Error("--reason is required: a rejection says why.") : base.Validate();
}

public sealed class RejectRequestCommand(CliEnvironment env) : RegistryCommand<RejectRequestSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, RejectRequestSettings s, CancellationToken ct) =>
        Show(s, await client.RejectRequestAsync(s.Model, s.RequestId, s.Reason, ct),
            r => Console.MarkupLine($"Rejected request {r.Id} ({Text(Requests.Move(r))}): {Text(r.ClosedReason)}"));
}

/// <summary>How esr words transition requests.</summary>
public static class Requests
{
    public static string Move(TransitionRequestInfo r) => Move(r.Model, r.Kind, r.Version, r.Target);

    /// <summary><c>churn v2 → Production</c> for a stage request, <c>churn@champion → v2</c> for an alias request.</summary>
    public static string Move(string model, string kind, int version, string target) =>
        kind == "alias" ? $"{model}@{target} → v{version}" : $"{model} v{version} → {target}";

    public static string Requester(TransitionRequestInfo r) =>
        r.RequesterOwner is null || r.RequestedBy == r.RequesterOwner ? r.RequestedBy : $"{r.RequestedBy} ({r.RequesterOwner})";

    /// <summary>
    /// What <c>esr stage</c> and <c>esr alias set</c> print when the registry records a request instead of the move: that
    /// nothing moved, who may approve, and the command that approves. Plain text, never wrapped, so the command copies whole.
    /// </summary>
    public static string AwaitingApproval(TransitionRequestInfo r)
    {
        var owner = r.RequesterOwner ?? r.RequestedBy;
        var needed = r.ApprovalsRequired - r.ApprovalsValid;
        return new StringBuilder()
            .AppendLine($"Waiting for approval: {Move(r)} is requested, not done (four-eyes approval); nothing has moved yet.")
            .AppendLine($"Request {r.Id}, asked by {Requester(r)}.")
            .AppendLine($"It needs {needed} approval{(needed == 1 ? "" : "s")} from a key with the approver role (registry-wide or for {r.Model}) " +
                        $"whose owner is not {owner} and did not make the requesting key. The approver runs:")
            .AppendLine($"  esr requests approve {r.Model} {r.Id}")
            .AppendLine($"(--reason \"…\" says why; esr requests reject {r.Model} {r.Id} --reason \"…\" turns it down.)")
            .ToString();
    }
}
