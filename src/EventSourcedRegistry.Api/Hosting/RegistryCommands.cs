using EventSourcedRegistry.Api.Admin;

namespace EventSourcedRegistry.Api.Hosting;

/// <summary>Commands of the API host's own command line: <c>dotnet run --project src/EventSourcedRegistry.Api -- rebuild [projection]</c>.</summary>
public static class RegistryCommands
{
    public static async Task<int> Rebuild(WebApplication app, string[] args)
    {
        await app.StartAsync();
        try
        {
            var rebuilds = app.Services.GetRequiredService<ProjectionRebuilds>();
            var projections = args.Length > 0 ? args : rebuilds.Known.ToArray();
            var unknown = projections.Except(rebuilds.Known).ToList();
            if (unknown.Count > 0)
            {
                await Console.Error.WriteLineAsync($"Unknown projection(s): {string.Join(", ", unknown)}. Known: {string.Join(", ", rebuilds.Known)}.");
                return 2;
            }
            // workspaces: the default workspace until the command takes one.
            var status = await rebuilds.RunAsync(EventSourcedRegistry.Store.WorkspaceId.Default, projections, CancellationToken.None);
            foreach (var report in status.Reports)
                Console.WriteLine($"{report.View}: {report.Events} events of {report.Models} models in {report.Elapsed.TotalSeconds:F1} s " +
                                  $"({report.EventsPerSecond:F0} events/s); {report.Differences} difference(s) from the live view" +
                                  (report.Examples.Count > 0 ? ": " + string.Join("; ", report.Examples) : ""));
            if (status.Error is not null) await Console.Error.WriteLineAsync($"Rebuild failed: {status.Error}");
            return status.State == "succeeded" ? 0 : 1;
        }
        finally
        {
            await app.StopAsync();
        }
    }
}
