#!/usr/bin/env python3
"""Set up a quetz-server 0.10.4 deployment with a proxy channel (run with the quetz venv's python).

  quetz_setup.py init DIR                  config.toml, `quetz create`, an owner user and API key
  quetz_setup.py channel DIR BASE UPSTREAM POST /api/channels: `fixture`, mirror_mode proxy of UPSTREAM
"""
import json
import os
import subprocess
import sys
import urllib.request
import uuid

API_KEY = "hoard-bench-local-key"   # a throwaway key for a server bound to 127.0.0.1


def init(directory: str) -> None:
    import shutil
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    config = os.path.join(directory, "config.toml")
    with open(config, "w") as f:
        f.write(f'[sqlalchemy]\ndatabase_url = "sqlite:///{os.path.abspath(directory)}/quetz.sqlite"\n\n'
                f'[session]\nsecret = "{uuid.uuid4().hex}"\nhttps_only = false\n')
    quetz = os.path.join(os.path.dirname(sys.executable), "quetz")
    subprocess.run([quetz, "create", directory], check=True, cwd=os.path.dirname(os.path.abspath(directory)))  # it logs to ./quetz.log
    os.environ["QUETZ_CONFIG_FILE"] = config
    from quetz.config import Config
    from quetz.dao import Dao
    from quetz.database import get_session
    from quetz.db_models import ApiKey

    db = get_session(Config(config).sqlalchemy_database_url)
    dao = Dao(db)
    user = dao.create_user_with_profile(username="bench", provider="dummy", identity_id="bench",
                                        name="bench", avatar_url="", role="owner", exist_ok=True)
    db.add(ApiKey(key=API_KEY, description="bench", user_id=user.id, owner_id=user.id))
    db.commit()
    open(os.path.join(directory, "ready"), "w").close()


def channel(directory: str, base: str, upstream: str) -> None:
    body = json.dumps({"name": "fixture", "mirror_channel_url": upstream, "mirror_mode": "proxy", "private": False}).encode()
    request = urllib.request.Request(base + "/api/channels", data=body, method="POST",
                                     headers={"X-API-Key": API_KEY, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        print("POST /api/channels", response.status)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "init":
        init(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "channel":
        channel(*sys.argv[2:])
    else:
        sys.exit(__doc__)
