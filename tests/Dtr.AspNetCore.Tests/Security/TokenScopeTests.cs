using Dtr.AspNetCore.Security;

namespace Dtr.AspNetCore.Tests.Security;

public sealed class TokenScopeTests
{
    [Fact]
    public void GrantsManagement_TrueForManagementStar()
    {
        TokenScope[] access =
        [
            new("repository", "alice/app", ["pull"]),
            new("registry", "management", ["*"]),
        ];

        Assert.True(TokenScope.GrantsManagement(access));
    }

    [Fact]
    public void GrantsManagement_FalseWithoutIt()
    {
        Assert.False(TokenScope.GrantsManagement(null));
        Assert.False(TokenScope.GrantsManagement([]));
        Assert.False(TokenScope.GrantsManagement([new("registry", "management", [])]));
        Assert.False(TokenScope.GrantsManagement([new("registry", "management", ["pull"])]));
        Assert.False(TokenScope.GrantsManagement([new("registry", "catalog", ["*"])]));
        Assert.False(TokenScope.GrantsManagement([new("repository", "management", ["*"])]));
    }
}
