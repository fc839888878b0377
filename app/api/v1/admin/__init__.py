"""The Mastodon admin API (/api/v1/admin/...), for moderators' apps."""
