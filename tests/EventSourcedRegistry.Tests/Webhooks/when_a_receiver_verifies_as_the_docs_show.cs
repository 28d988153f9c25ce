using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using EventSourcedRegistry.Api.Webhooks;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Webhooks;

/// <summary>
/// docs/integration.md's shell check (openssl) runs as printed against a signature the registry made: it says
/// "verified" for the right secret and refuses a wrong one or an altered body, so the documented command cannot be wrong.
/// </summary>
public class when_a_receiver_verifies_as_the_docs_show
{
    private static string ShellCheck()
    {
        var doc = File.ReadAllText(RepositoryFiles.PathOf("docs/integration.md"));
        return Regex.Match(doc, "Shell[^\n]*\n\n```sh\n(?<script>.*?)```", RegexOptions.Singleline).Groups["script"].Value;
    }

    private static (int Exit, string Output) Run(string script, string secret, string signature, byte[] body)
    {
        var folder = Directory.CreateTempSubdirectory("esr-webhook-verify-");
        try
        {
            File.WriteAllBytes(Path.Combine(folder.FullName, "body.json"), body);
            var start = new ProcessStartInfo("/bin/sh", ["-c", script])
            {
                WorkingDirectory = folder.FullName, RedirectStandardOutput = true, RedirectStandardError = true,
                Environment = { ["SECRET"] = secret, ["SIGNATURE"] = signature },
            };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "the shell check did not finish");
            return (process.ExitCode, output);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void the_documented_openssl_check_verifies_a_delivery_and_refuses_a_forgery()
    {
        var script = ShellCheck();
        Assert.Contains("openssl", script);
        var secret = WebhookSignature.NewSecret();
        var body = Encoding.UTF8.GetBytes("""{"specversion":"1.0","id":"x-1","data":{"reason":"it's \"quoted\" & spaced"}}""");
        var signature = WebhookSignature.Sign(secret, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body);

        var good = Run(script, secret, signature, body);
        Assert.True(good.Exit == 0 && good.Output.Contains("verified"), good.Output);
        Assert.NotEqual(0, Run(script, secret + "x", signature, body).Exit);
        Assert.NotEqual(0, Run(script, secret, signature, [.. body, (byte)' ']).Exit);
        var old = WebhookSignature.Sign(secret, DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds(), body);
        Assert.NotEqual(0, Run(script, secret, old, body).Exit);
    }
}
