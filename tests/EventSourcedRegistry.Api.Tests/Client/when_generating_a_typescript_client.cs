using System.Text.RegularExpressions;
using EventSourcedRegistry.Api.Tests.Samples;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Client;

/// <summary>
/// Issue 18, item 3: a client generated from the served OpenAPI document works. docs/clients.md's two blocks are run as
/// written there: its NSwag command generates the client (see <see cref="GeneratedTypeScriptClient"/>), TypeScript compiles
/// it under <c>--strict</c>, and its example program, compiled with it, runs under Node.js against the live test host
/// (through a <see cref="LoopbackRelay"/>) with a reader's API key.
/// </summary>
public sealed class when_generating_a_typescript_client(AppFixture app, GeneratedTypeScriptClient client,
    Xunit.Abstractions.ITestOutputHelper output) : ApiTest(app), IClassFixture<GeneratedTypeScriptClient>
{
    [Fact]
    public async Task the_client_generated_from_the_served_document_compiles_under_strict_with_a_method_per_operation()
    {
        try
        {
            await client.Generate();
            await client.WriteTsconfig("tsconfig.client.json", ["client.ts"], outDir: null);
            await client.Compile("tsconfig.client.json");

            // Every operation became a method named after its operationId (a stable name a user's code can rely on).
            var source = await File.ReadAllTextAsync(client.ClientFile);
            var operations = client.Document["paths"]!.AsObject()
                .SelectMany(p => p.Value!.AsObject().Where(o => o.Key != "parameters").Select(o => (Route: $"{o.Key.ToUpperInvariant()} {p.Key}", Operation: o.Value!)))
                .ToList();
            Assert.True(operations.Count >= 16, $"the document lists only {operations.Count} operations");
            var unnamed = operations.Where(o => o.Operation["operationId"] is null).Select(o => o.Route).ToList();
            Assert.True(unnamed.Count == 0, $"operations without an operationId get generated names that change with their paths: {string.Join(", ", unnamed)}");
            var missing = operations.Select(o => o.Operation["operationId"]!.GetValue<string>())
                .Where(id => !source.Contains($"    {char.ToLowerInvariant(id[0])}{id[1..]}(", StringComparison.Ordinal))
                .ToList();
            Assert.True(missing.Count == 0, $"the client has no method for: {string.Join(", ", missing)}");
        }
        finally
        {
            output.WriteLine(string.Join("\n", client.Timings));
        }
    }

    [Fact]
    public async Task the_documented_program_lists_and_reads_models_on_the_live_api_with_a_reader_key()
    {
        try
        {
            Assert.Equal(201, (await Host.RegisterModel("churn")).Status);
            var created = await Host.Post("/api/v1/admin/keys", new { name = "typescript-reader", owner = "typescript", grants = new[] { new { role = "reader" } } });
            Assert.True(created.Status == 201, $"creating a reader key: {created.Status} {created.Body}");
            var key = created.Body!["key"]!.GetValue<string>();

            await client.Generate();
            await using var relay = await LoopbackRelay.Start(Host);
            await File.WriteAllTextAsync(Path.Combine(client.Directory, "program.ts"), Program(relay.Address, key));
            await client.WriteTsconfig("tsconfig.program.json", ["client.ts", "program.ts"], outDir: "out");
            await client.Compile("tsconfig.program.json");

            var run = await client.Timed("node out/program.js", () => GeneratedTypeScriptClient.Run("node", [Path.Combine(client.Directory, "out", "program.js")],
                client.Directory, "the documented program failed against the live registry"));

            // What docs/clients.md says the program prints, listing first, JSON.stringify keeping the order.
            const string documented = """{"listed":["churn"],"read":"churn","missing":404,"withoutKey":401}""";
            Assert.Contains($"it prints `{documented}`", File.ReadAllText(Path.Combine(WalkthroughRegistry.RepositoryRoot, "docs", "clients.md")));
            var lines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.True(lines.Length > 0 && lines[^1] == documented, $"the program should print {documented}:\n{run}");
        }
        finally
        {
            output.WriteLine(string.Join("\n", client.Timings));
        }
    }

    /// <summary>docs/clients.md's example with this registry's address and the key filled in; each must be there once.</summary>
    private static string Program(string server, string key)
    {
        var example = GeneratedTypeScriptClient.DocsBlock("clientgen-example", "ts");
        const string documentedServer = "const server = \"http://localhost:5000\";";
        const string documentedKey = "const key = \"esr_...\";";
        Assert.True(Regex.Count(example, Regex.Escape(documentedServer)) == 1, $"the example has the line '{documentedServer}' once:\n{example}");
        Assert.True(Regex.Count(example, Regex.Escape(documentedKey)) == 1, $"the example has the line '{documentedKey}' once:\n{example}");
        return example.Replace(documentedServer, $"const server = \"{server}\";").Replace(documentedKey, $"const key = \"{key}\";");
    }
}
