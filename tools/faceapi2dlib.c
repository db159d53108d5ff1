/*
 * faceapi2dlib.c - converts face-api's TF.js face-recognition weights into
 * dlib's dlib_face_recognition_resnet_model_v1.dat format.
 *
 * usage: faceapi2dlib MANIFEST.json WEIGHTS.bin OUT.dat
 */
#include <stdio.h>
#include "faceaudit/faceaudit.h"
#include "shim/shim.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s MANIFEST.json WEIGHTS.bin OUT.dat\n", argv[0]);
        return 2;
    }
    if (fa_convert_faceapi(argv[1], argv[2], argv[3]) != 0) {
        fprintf(stderr, "faceapi2dlib: %s\n", fa_last_error());
        return 1;
    }
    return 0;
}
