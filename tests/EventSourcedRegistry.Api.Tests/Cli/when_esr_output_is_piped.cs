using System.Diagnostics;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Cli;

namespace EventSourcedRegistry.Api.Tests.Cli;

/// <summary>
/// Issue 19, item 6: on main, a table esr wrote into a pipe wrapped at 80 columns whatever <c>COLUMNS</c> said (Spectre's
/// width when there is no terminal). Now <c>COLUMNS</c> sets the width, and piped without it nothing wraps.
/// </summary>
public sealed class when_esr_output_is_piped(AppFixture app) : ApiTest(app)
{
    private const string LongName = "churn-prediction-for-enterprise-customers-in-europe";
    private static readonly Dictionary<string, string> LongTags = new()
    {
        ["owner"] = "data-science-platform-team@example.com",
        ["team"] = "growth-and-retention-analytics",
    };

    private static string[] Lines(string text) => text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

    [Fact]
    public async Task without_COLUMNS_a_piped_table_keeps_each_row_on_one_line()
    {
        await Host.RegisterModel(LongName, LongTags);

        var run = await EsrRunner.Esr(Host.Client(), ["models", "list"], columns: null);

        Assert.True(run.ExitCode == 0, run.ToString());
        var row = Assert.Single(Lines(run.Console), l => l.Contains(LongName));
        Assert.Contains("owner=data-science-platform-team@example.com", row);
        Assert.Contains("team=growth-and-retention-analytics", row);
        Assert.True(row.TrimEnd().Length > 80, row);
    }

    [Theory]
    [InlineData("60")]
    [InlineData("200")]
    public async Task COLUMNS_is_the_width_of_a_piped_table(string columns)
    {
        await Host.RegisterModel(LongName, LongTags);

        var run = await EsrRunner.Esr(Host.Client(), ["models", "list"], columns);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Model", run.Console);
        var widest = Lines(run.Console).Max(l => l.TrimEnd().Length);
        Assert.True(widest <= int.Parse(columns), $"a line of {widest} columns with COLUMNS={columns}:\n{run.Console}");
        if (columns == "200") Assert.True(widest > 80, $"COLUMNS=200, yet the widest line has {widest} columns:\n{run.Console}");
    }

    [Theory]
    [InlineData("120", false, 120)]
    [InlineData("120", true, 120)]
    [InlineData(null, false, ConsoleWidth.Unwrapped)]
    [InlineData("", false, ConsoleWidth.Unwrapped)]
    [InlineData("wide", false, ConsoleWidth.Unwrapped)]
    [InlineData("0", false, ConsoleWidth.Unwrapped)]
    [InlineData("-40", false, ConsoleWidth.Unwrapped)]
    [InlineData(null, true, null)]
    [InlineData("0", true, null)]
    public void the_width_is_COLUMNS_else_the_terminals_else_unwrapped(string? columns, bool isTerminal, int? width) =>
        Assert.Equal(width, ConsoleWidth.Of(columns, isTerminal));

    /// <summary>The real esr process, its standard output a pipe: what a CI log or <c>| grep</c> gets (help is drawn like tables).</summary>
    [Theory]
    [InlineData(null)]
    [InlineData("50")]
    public async Task the_esr_process_draws_at_COLUMNS_or_unwrapped_into_a_pipe(string? columns)
    {
        var esr = typeof(EsrApp).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { esr, "keys", "create", "--help" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(esr)!,
        };
        start.Environment.Remove(ConsoleWidth.ColumnsVariable);
        if (columns is not null) start.Environment[ConsoleWidth.ColumnsVariable] = columns;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        var text = await output;
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {text} {await error}");

        var lines = Lines(text);
        if (columns is null)
        {
            var grant = Assert.Single(lines, l => l.Contains("--grant <ROLE"));
            Assert.Contains("repeatable", grant);
        }
        else
        {
            Assert.Contains(lines, l => l.Contains("--grant <ROLE"));
            Assert.All(lines, l => Assert.True(l.TrimEnd().Length <= 50, $"'{l}' is wider than COLUMNS=50"));
        }
    }
}
