using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using EventSourcedRegistry.Cli.Commands;
using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts.V1;
using EventSourcedRegistry.Contracts;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EventSourcedRegistry.Cli;

public class GlobalSettings : CommandSettings
{
    [CommandOption("--server <URL>")]
    [Description("The registry's address (default: $ESR_SERVER, else http://localhost:5000).")]
    public string? Server { get; init; }

    [CommandOption("--api-key <KEY>")]
    [Description("The API key to send (default: $ESR_API_KEY). Prefer the variable: a command line shows in ps.")]
    public string? ApiKey { get; init; }

    [CommandOption("-w|--workspace <SLUG>")]
    [Description("The workspace to address (default: $ESR_WORKSPACE, else the default workspace).")]
    public string? Workspace { get; init; }

    [CommandOption("-o|--output <FORMAT>")]
    [Description("table (default) or json (raw JSON on stdout, for scripts).")]
    [DefaultValue("table")]
    public string Output { get; init; } = "table";

    public bool Json => string.Equals(Output, "json", StringComparison.OrdinalIgnoreCase);

    public override ValidationResult Validate() =>
        Output.ToLowerInvariant() is "table" or "json" ? ValidationResult.Success() : ValidationResult.Error("--output is table or json.");

    /// <summary>A range bound (<c>--from</c>, <c>--to</c>) checked by the same rule before it is sent as typed.</summary>
    protected static ValidationResult CheckPoint(string? value, string option) =>
        value is null || PointInTime.TryParse(value, out _, out var problem)
            ? ValidationResult.Success()
            : ValidationResult.Error($"{option} {problem}");

    /// <summary>A digest argument checked by the registry's own rule (64 hex digits, optionally sha256:-prefixed).</summary>
    protected static ValidationResult CheckDigest(string? value, string option) =>
        value is null || Sha256Digest.TryParse(value, out _, out var problem)
            ? ValidationResult.Success()
            : ValidationResult.Error($"{option} {problem} Give {Sha256Digest.AcceptedForms}.");
}

/// <summary>
/// A command against the registry: builds the client, runs, and turns the server's ProblemDetails into a message on
/// stderr and the exit code (2 not found, 3 conflict or stale revision, 4 anything else).
/// </summary>
public abstract class RegistryCommand<TSettings>(CliEnvironment env) : AsyncCommand<TSettings> where TSettings : GlobalSettings
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Prints what the client read, as deep as the server serves it (RegistryClient's MaxDepth).
        MaxDepth = 256,
    };

    protected CliEnvironment Env { get; } = env;
    protected IAnsiConsole Console => Env.Console;

    protected abstract Task<int> RunAsync(RegistryClient client, TSettings settings, CancellationToken ct);

    public sealed override async Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken ct)
    {
        var server = settings.Server ?? Env.ServerFromEnvironment ?? CliEnvironment.DefaultServer;
        if (!Uri.TryCreate(server, UriKind.Absolute, out var endpoint))
            return Fail(ExitCodes.Usage, $"'{server}' is not an absolute URL.");
        var workspace = settings.Workspace ?? (Env.WorkspaceFromEnvironment is { Length: > 0 } fromEnvironment ? fromEnvironment : null);
        using var client = Env.ClientFor(endpoint, settings.ApiKey ?? Env.ApiKeyFromEnvironment, workspace);
        try
        {
            return await RunAsync(client, settings, ct);
        }
        catch (RegistryRequestException e)
        {
            var hint = e.Status switch
            {
                401 => $" (give --api-key or set {CliEnvironment.ApiKeyVariable})",
                403 => " (use a key that holds that role; an admin makes one with: esr keys create <name> --owner <owner> --grant <role>)",
                _ => "",
            };
            return Fail(ExitCodes.OfStatus(e.Status), $"{e.Status} {e.Title}: {e.Message}{hint}");
        }
        catch (ApprovalRequiredException e)
        {
            // Not refused, not done: the registry recorded a transition request that an approver has to approve. Not 0,
            // so that `set -e` and `&&` never carry on as if the version were in the protected stage (see ExitCodes).
            if (settings.Json) Env.Out.WriteLine(JsonSerializer.Serialize(e.Request, JsonOptions));
            else Env.Out.Write(Requests.AwaitingApproval(e.Request));
            return ExitCodes.AwaitingApproval;
        }
        catch (ArtifactDigestMismatchException e)
        {
            return Fail(ExitCodes.Failed, e.Message);
        }
        catch (UsageException e)
        {
            return Fail(ExitCodes.Usage, e.Message);
        }
        catch (HttpRequestException e)
        {
            return Fail(ExitCodes.Failed, $"Cannot reach the registry at {endpoint}: {e.Message}");
        }
        catch (IOException e)
        {
            return Fail(ExitCodes.Failed, e.Message);
        }
    }

    private int Fail(int code, string message)
    {
        Env.Error.WriteLine($"esr: {message}");
        return code;
    }

    /// <summary>
    /// A list: every page, answered with <c>nextCursor</c> null; or, with <c>--limit</c> or <c>--cursor</c>, the one page
    /// asked for, with the <c>nextCursor</c> to pass back for the next. <paramref name="read"/> gets a cursor and a limit.
    /// </summary>
    protected static async Task<(List<T> Items, TPage First, string? NextCursor)> ReadPages<TPage, T>(IPagedSettings paging, int pageSize,
        Func<string?, int?, Task<TPage>> read, Func<TPage, IReadOnlyList<T>> items, Func<TPage, string?> next) where TPage : class
    {
        if (paging.Limit is not null || paging.Cursor is not null)
        {
            var page = await read(paging.Cursor, paging.Limit);
            return ([.. items(page)], page, next(page));
        }
        var all = new List<T>();
        TPage? first = null;
        string? cursor = null;
        do
        {
            var page = await read(cursor, pageSize);
            first ??= page;
            all.AddRange(items(page));
            cursor = next(page);
        } while (cursor is not null);
        return (all, first, null);
    }

    /// <summary>Under a table of one page: how to ask for the next.</summary>
    protected void More(string? nextCursor)
    {
        if (nextCursor is not null) Console.MarkupLine($"More: --cursor {Text(nextCursor)}");
    }

    /// <summary>Writes the answer as JSON for scripts, or renders it for people.</summary>
    protected int Show<T>(TSettings settings, T value, Action<T> render)
    {
        if (settings.Json) Env.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));
        else render(value);
        return ExitCodes.Ok;
    }

    protected static Table NewTable(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in columns) table.AddColumn(column);
        return table;
    }

    protected static string Text(object? value) => Markup.Escape(value switch
    {
        null => "",
        DateTimeOffset t => t.ToString("u", CultureInfo.InvariantCulture),
        double d => d.ToString("G", CultureInfo.InvariantCulture),
        IEnumerable<KeyValuePair<string, string>> pairs => string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}")),
        IEnumerable<KeyValuePair<string, double>> pairs => string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value.ToString(CultureInfo.InvariantCulture)}")),
        IEnumerable<KeyValuePair<string, int>> pairs => string.Join(", ", pairs.Select(p => $"{p.Key}→v{p.Value}")),
        IEnumerable<KeyValuePair<string, List<int>>> pairs => string.Join(", ", pairs.Select(p => $"{p.Key}: {string.Join(",", p.Value)}")),
        IEnumerable<string> items => string.Join(", ", items),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    });

    /// <summary>
    /// <c>--as-of</c> (or <paramref name="option"/>): digits are a sequence, anything else an instant read by the registry's
    /// own rule, so esr refuses exactly what the API refuses (an instant without an offset is never taken as UTC).
    /// </summary>
    protected static PointInTime? PointOf(string? asOf, long? atSequence, string option = "--as-of")
    {
        if (asOf is not null && atSequence is not null) throw new UsageException("Give --as-of or --at-sequence, not both.");
        if (atSequence is { } sequence) return PointInTime.AtSequence(sequence);
        if (asOf is null) return null;
        return PointInTime.TryParse(asOf, out var point, out var problem) ? point : throw new UsageException($"{option} {problem}");
    }

    protected static Dictionary<string, string>? Pairs(string[]? items, string option)
    {
        if (items is null || items.Length == 0) return null;
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var at = item.IndexOf('=');
            if (at <= 0) throw new UsageException($"{option} takes key=value, not '{item}'.");
            pairs[item[..at]] = item[(at + 1)..];
        }
        return pairs;
    }
}

/// <summary>The options of a list: <c>--limit</c> and <c>--cursor</c> read one page instead of every page.</summary>
public interface IPagedSettings
{
    int? Limit { get; }
    string? Cursor { get; }
}

/// <summary>A list across models (no model argument), with <c>--limit</c> and <c>--cursor</c>.</summary>
public class ListSettings : GlobalSettings, IPagedSettings
{
    [CommandOption("--limit <N>")]
    [Description("Read one page of at most N items (default: every page).")]
    public int? Limit { get; init; }

    [CommandOption("--cursor <CURSOR>")]
    [Description("Read the page after an earlier answer's nextCursor.")]
    public string? Cursor { get; init; }
}

/// <summary>A mistake in the command line found after parsing (exit code 1).</summary>
public sealed class UsageException(string message) : Exception(message);
