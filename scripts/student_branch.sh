#!/usr/bin/env bash
# Commit the student edition of the book to branch `student` (CI's publish step runs this,
# then `git push origin student`). The branch holds the source commit's tree with chapters/
# replaced by the student notebooks (`python -m cnnlib.classroom student`), so Binder finds
# binder/ and Colab finds chapters/<page>.ipynb at the same paths as on main:
#   https://colab.research.google.com/github/<owner>/<repo>/blob/student/chapters/<page>.ipynb
#   https://mybinder.org/v2/gh/<owner>/<repo>/student?urlpath=tree/chapters/<page>.ipynb
# The working tree, the index and the current branch are left alone (a temporary index is used).
#   usage: scripts/student_branch.sh [SOURCE_COMMIT (default HEAD)] [BRANCH (default student)]
set -euo pipefail
source_commit=$(git rev-parse --verify "${1:-HEAD}^{commit}")
branch=${2:-student}
python=${PYTHON:-python3}
root=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# the chapters of the source commit (not the working tree's), and their student edition
git -C "$root" archive "$source_commit" chapters | tar -x -C "$work"
"$python" -m cnnlib.classroom student --source "$work/chapters" --out "$work/student" >/dev/null

export GIT_INDEX_FILE="$work/index"
git -C "$root" read-tree "$source_commit"
git -C "$root" rm -r -q --cached chapters
while IFS= read -r -d '' nb; do
  rel=${nb#"$work/student/"}
  blob=$(git -C "$root" hash-object -w "$nb")
  git -C "$root" update-index --add --cacheinfo "100644,$blob,chapters/$rel"
done < <(find "$work/student" -name '*.ipynb' -print0 | sort -z)
# pages other than notebooks under chapters/ (none today) are kept as they are
git -C "$root" ls-tree -r --name-only "$source_commit" chapters | grep -v '\.ipynb$' | while IFS= read -r f; do
  git -C "$root" update-index --add --cacheinfo "$(git -C "$root" ls-tree "$source_commit" "$f" | awk '{print $1","$3}'),$f"
done || true
tree=$(git -C "$root" write-tree)
parent=()
if git -C "$root" rev-parse -q --verify "refs/heads/$branch" >/dev/null; then
  parent=(-p "refs/heads/$branch")
fi
commit=$(git -C "$root" commit-tree "$tree" "${parent[@]}" -m "Student edition of $(git -C "$root" rev-parse --short "$source_commit")")
git -C "$root" update-ref "refs/heads/$branch" "$commit"
echo "branch $branch -> $commit (student edition of $source_commit)"
