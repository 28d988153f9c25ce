using EventSourcedRegistry.Api.Hosting;

var builder = WebApplication.CreateBuilder(args);

using var startupLogs = LoggerFactory.Create(logging => logging.AddConsole());
var startupLogger = startupLogs.CreateLogger("EventSourcedRegistry");

RegistryDatabase database;
try
{
    database = await RegistryDatabase.OpenAsync(builder.Configuration, startupLogger);
}
catch (PostgresBinariesNotFoundException missing)
{
    await Console.Error.WriteLineAsync(missing.Message);
    return 1;
}

await using (database)
{
    // Before the host exists, so before Marten migrates anything: a store written before workspaces is copied first.
    if (args is ["drop-pre-workspaces"]) return await database.DropPreWorkspacesAsync(startupLogger);
    if (!await database.UpgradeIfWrittenBeforeWorkspacesAsync(startupLogger)) return 1;
    builder.AddRegistry(database);
    var app = builder.Build();
    app.UseRegistry();
    if (args is ["rebuild", ..])
        return await RegistryCommands.Rebuild(app, args[1..]);
    await app.RunAsync();
}
return 0;

public partial class Program;
