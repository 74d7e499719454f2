set -e
# What produced docs/results/first_hour (the README's "Your first hour" steps). The teacher step
# reused the 48x64 tier teacher that tools/benchmark.py trained from the same config, copied to
# work_dirs/my_teacher/iter_1200.pth; my_photos held matplotlib's sample photographs
# grace_hopper.jpg and Minduka_Present_Blue_Pack.png.
cd "$(dirname "$0")/../../.."  # the repository root
source .venv/bin/activate
export OMP_NUM_THREADS=2
rm -rf work_dirs/my_student
start=$(date +%s)
echo "teacher: the benchmark run of the same config (copied iter_1200.pth)"
python tools/export_weights.py work_dirs/my_teacher/iter_1200.pth work_dirs/my_teacher/teacher.pth
t1=$(date +%s)
python tools/train.py configs/kd/kd-blind_dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64_photos.py \
    --work-dir work_dirs/my_student \
    --cfg-options ood_root=my_photos model.teacher.checkpoint=work_dirs/my_teacher/teacher.pth
t2=$(date +%s)
python tools/export_weights.py work_dirs/my_student/iter_400.pth --smp-dir work_dirs/my_student/smp
python tools/infer.py work_dirs/my_student/smp my_photos/*.jpg --out work_dirs/my_student/masks
python -c "
import sys; sys.modules['densekd'] = None
import segmentation_models_pytorch as smp, torch
model = smp.from_pretrained('work_dirs/my_student/smp').eval()
print('from_pretrained logits', tuple(model(torch.randn(1, 3, 48, 64)).shape))"
t3=$(date +%s)
echo "teacher $((t1-start)) s, student $((t2-t1)) s, export+infer $((t3-t2)) s"
